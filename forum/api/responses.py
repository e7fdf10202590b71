"""The API's response shapes, as pydantic models.

Each endpoint names its model (``endpoint(..., response=Thread)``); the view's
result is validated and serialised through it, and /api/v1/openapi.json
publishes the schema pydantic generates from the same model. So the document
cannot drift from what is sent: a field a dump function adds without the model
here fails the test suite (``extra="forbid"``), which validates every API
response it produces against the document (tests/api/openapi_check.py).

Keys a dump function adds only sometimes (``unread``, ``my_signup``...) have a
default and stay absent when absent (the view dumps with ``exclude_unset``).
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


Timestamp = str  # ISO 8601, UTC
Cursor = str | None


# --- shared -------------------------------------------------------------------------


class UserRef(Out):
    id: int
    username: str


class Embed(Out):
    kind: str
    id: int
    href: str


# --- accounts -----------------------------------------------------------------------


class User(Out):
    id: int
    username: str
    roles: list[str]
    created_at: Timestamp


class Registered(Out):
    user: User
    token: str


class Token(Out):
    token: str


class ApiToken(Out):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: Timestamp
    last_used_at: Timestamp | None


class ApiTokenPage(Out):
    items: list[ApiToken]
    next_cursor: Cursor


class NewApiToken(ApiToken):
    token: str  # shown once


class Me(User):
    tier: str
    points: int
    credit_cents: int


class OpenAPIDocument(BaseModel):
    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


# --- board --------------------------------------------------------------------------


class Category(Out):
    id: int
    slug: str
    name: str
    description: str


class Post(Out):
    id: int
    thread_id: int
    position: int
    author: UserRef
    body: str
    body_html: str
    like_count: int
    reply_to: int | None
    created_at: Timestamp | None
    edited_at: Timestamp | None
    embeds: list[Embed]


class ThreadSummary(Out):
    id: int
    title: str
    category: str
    author: UserRef
    pinned: bool
    locked: bool
    reply_count: int
    last_activity_at: Timestamp | None
    created_at: Timestamp | None


class ThreadPage(Out):
    items: list[ThreadSummary]
    next_cursor: Cursor


class PostPage(Out):
    items: list[Post]
    next_cursor: Cursor


class Thread(ThreadSummary):
    posts: PostPage


class NewThread(Out):
    id: int
    title: str
    category: str
    first_post: Post


class Likes(Out):
    like_count: int


class ThreadRef(Out):
    id: int
    title: str


class SearchHit(Post):
    type: Literal["post"]
    thread: ThreadRef


class ProductSearchHit(Out):
    """A product whose reviews match (first page only)."""

    type: Literal["product"]
    id: int
    name: str
    url: str
    snippet: str  # plain text, matches wrapped in <mark>
    rating_avg: float | None
    rating_count: int


class SearchPage(Out):
    items: list[Annotated[SearchHit | ProductSearchHit, Field(discriminator="type")]]
    next_cursor: Cursor


# --- chat ---------------------------------------------------------------------------


class Author(UserRef):
    initials: str
    hue: int


class ChatMessage(Out):
    id: int
    seq: int
    room: str
    author: Author
    body: str
    body_html: str
    embeds: list[Embed]
    created_at: Timestamp | None


class ChatMessagePage(Out):
    items: list[ChatMessage]
    next_cursor: int | str | None


class Room(Out):
    id: int
    slug: str
    name: str
    kind: str
    topic: str
    last_message_id: int | None
    last_message_at: Timestamp | None
    created_at: Timestamp | None
    unread: int = 0
    members: list[UserRef] = Field(default_factory=list)


class RoomListed(Room):
    joined: bool


class RoomList(Out):
    items: list[RoomListed]
    next_cursor: None


class RoomDetail(Room):
    online: list[UserRef]


class Mute(Out):
    room: str
    user: UserRef
    until: Timestamp


class ReadState(Out):
    room: str
    unread: int


# --- shop ---------------------------------------------------------------------------


class Merchant(Out):
    id: int
    slug: str
    name: str
    logo_initials: str
    currency: str
    shipping_fee_cents: int
    free_shipping_threshold_cents: int | None


class Product(Out):
    id: int
    merchant: Merchant
    name: str
    description: str
    description_html: str
    price_cents: int
    currency: str
    stock: int
    stock_label: str
    active: bool
    archived: bool
    audience: str
    free_shipping_excluded: bool
    image_url: str | None
    url: str
    # Over the reviews that count (shared/API.md, Reviews); rating_avg is null without any.
    rating_avg: float | None
    rating_count: int
    rating_histogram: dict[Literal["1", "2", "3", "4", "5"], int]
    created_at: Timestamp | None
    updated_at: Timestamp | None


class ProductList(Out):
    items: list[Product]
    next_cursor: None


class OrderItem(Out):
    product_id: int | None
    name: str
    unit_price_cents: int
    quantity: int
    line_total_cents: int


class Payment(Out):
    provider: str
    status: str
    reference: str | None


class OrderSource(Out):
    kind: str
    id: int | None
    author_id: int | None


class OrderEvent(Out):
    id: int
    type: str
    from_status: str | None
    to_status: str | None
    actor: UserRef | None
    params: dict[str, Any]
    created_at: Timestamp | None


class OrderAdjustment(Out):
    kind: str
    label: str
    amount_cents: int


class Order(Out):
    id: int
    kind: str
    status: str
    buyer: UserRef
    merchant: Merchant
    items: list[OrderItem]
    currency: str
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int
    credit_used_cents: int
    points_used: int
    total_cents: int
    rebate_cents: int
    refunded_cents: int
    adjustments: list[OrderAdjustment]
    shipping_address: dict[str, str] | None
    payment: Payment | None
    source: OrderSource | None
    expires_at: Timestamp | None
    created_at: Timestamp | None
    paid_at: Timestamp | None
    shipped_at: Timestamp | None
    completed_at: Timestamp | None
    cancelled_at: Timestamp | None
    refunded_at: Timestamp | None
    events: list[OrderEvent] = Field(default_factory=list)


class OrderPage(Out):
    items: list[Order]
    next_cursor: Cursor


# --- events -------------------------------------------------------------------------


class Signup(Out):
    event_id: int
    status: str
    position: int | None
    checkin_code: str | None
    checked_in_at: Timestamp | None
    created_at: Timestamp | None


class SponsorRequest(Out):
    merchant: UserRef
    requested_at: Timestamp | None


class Event(Out):
    id: int
    title: str
    description: str
    description_html: str
    location: str
    online_url: str | None
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    signup_deadline: Timestamp | None
    signups_close_at: Timestamp | None
    signups_open: bool
    capacity: int | None
    seats_taken: int
    seats_left: int | None
    waitlist_count: int
    host: UserRef
    sponsor: UserRef | None
    thread_id: int | None
    cover_colour: str
    cover_image_url: str | None
    cancelled: bool
    url: str
    ics_url: str
    created_at: Timestamp | None
    my_signup: Signup | None = None
    sponsor_request: SponsorRequest | None = None  # the host and the merchant asked only


class Sponsorship(Out):
    event_id: int
    title: str
    host: UserRef
    starts_at: Timestamp | None
    url: str
    requested_at: Timestamp | None
    accepted_at: Timestamp | None


class Sponsorships(Out):
    requests: list[Sponsorship]
    sponsoring: list[Sponsorship]


class EventPage(Out):
    items: list[Event]
    next_cursor: Cursor


class SignupResult(Out):
    status: str
    position: int | None
    event_id: int = 0
    checkin_code: str | None = None


class Participant(Out):
    user: UserRef
    status: str
    position: int | None
    checkin_code: str | None
    checked_in_at: Timestamp | None
    attendance: str | None


class ParticipantList(Out):
    items: list[Participant]
    next_cursor: None


class CheckedIn(Signup):
    user: UserRef


class EventMessage(Out):
    id: int
    author: UserRef
    body: str
    recipients: int
    created_at: Timestamp | None


class MyEvent(Out):
    event: Event
    signup: Signup


class MyEventList(Out):
    items: list[MyEvent]
    next_cursor: None


# --- promotions ---------------------------------------------------------------------


class ServerTime(Out):
    now: Timestamp


class ProductRef(Out):
    id: int
    name: str
    price_cents: int
    currency: str


class TeamMember(UserRef):
    joined_at: Timestamp | None


class Team(Out):
    id: int
    team_id: int
    group_buy_id: int
    status: str
    members: int
    real_members: int
    size: int
    seats_left: int
    expires_at: Timestamp
    virtual_members: int
    leader: UserRef
    share_url: str
    created_at: Timestamp | None
    settled_at: Timestamp | None
    member_list: list[TeamMember] = Field(default_factory=list)
    my_order_id: int | None = None
    price_cents: int | None = None  # what every member pays at the step reached


class LadderStep(Out):
    team_size: int
    price_cents: int


class TeamCounts(Out):
    forming: int
    succeeded: int
    failed: int
    members: int


class MyTeam(Out):
    team_id: int
    order_id: int | None
    status: str


class GroupBuy(Out):
    id: int
    merchant_id: int
    product: ProductRef
    group_price_cents: int
    currency: str
    team_size: int
    team_window_minutes: int
    auto_complete: bool
    audience: str
    steps: list[LadderStep] | None = None
    ends_at: Timestamp | None
    ended_at: Timestamp | None
    state: Literal["open", "ended"]
    teams: list[Team]
    counts: TeamCounts
    url: str
    created_at: Timestamp | None
    my_teams: list[MyTeam] = Field(default_factory=list)


class Snap(Out):
    id: int
    stock: int
    stock_left: int
    state: str
    starts_at: Timestamp
    ends_at: Timestamp
    server_now: Timestamp
    merchant_id: int
    product: ProductRef
    price_cents: int
    currency: str
    per_user_limit: int
    audience: str
    payment_window_minutes: int
    ended_at: Timestamp | None
    url: str
    created_at: Timestamp | None
    my_bought: int = 0


# --- attribution --------------------------------------------------------------------


class CpaCents(Out):
    signup: int
    event_signup: int
    team_join: int
    first_purchase: int


class MerchantSettings(Out):
    merchant_id: int
    cps_rate_bp: int
    cpa_cents: CpaCents
    model: str
    currency: str
    updated_at: Timestamp | None


class ReportRow(Out):
    key: str
    label: str
    impressions: int
    clicks: int
    actions: int
    orders: int
    revenue_cents: int
    refunded_cents: int
    commission_cents: int
    posts: int
    click_rate: float | None
    conversion_rate: float | None
    revenue_per_post_cents: int | None
    revenue_per_mille_cents: int | None
    commission_per_mille_cents: int | None


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    group_by: str
    from_: Timestamp | None = Field(alias="from")
    to: Timestamp | None
    items: list[ReportRow]
    next_cursor: Cursor
    totals: ReportRow


class Payout(Out):
    id: int
    merchant_id: int
    total_cents: int
    currency: str
    entries: int
    created_at: Timestamp | None


class PayoutList(Out):
    items: list[Payout]


class Conversion(Out):
    id: int
    kind: str
    occurred_at: Timestamp | None
    model: str
    order_status: str | None


class CreditSource(Out):
    kind: str
    id: int | None
    room: str | None


class Offer(Out):
    kind: str | None
    id: int | None


class Earning(Out):
    id: int
    conversion: Conversion
    source: CreditSource
    offer: Offer
    weight_bp: int
    self_referral: bool
    commission_cents: int
    reward_cents: int
    currency: str
    status: str


class EarningTotals(Out):
    pending_cents: int
    approved_cents: int
    paid_cents: int
    reversed_cents: int
    reward_cents: int
    conversions: int
    orders: int
    earned_cents: int


class EarningPage(Out):
    items: list[Earning]
    next_cursor: Cursor
    totals: EarningTotals


# --- sign-ups held for the merchant's review (attribution) ---------------------------


class OfferRef(Out):
    kind: str | None
    id: int | None


class HeldSignup(Out):
    user: UserRef
    registered_at: Timestamp | None
    reason: str | None
    status: str
    activity: str | None
    source: OfferRef
    offer: OfferRef
    decided_at: Timestamp | None


class HeldSignupList(Out):
    items: list[HeldSignup]
