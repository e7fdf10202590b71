"""Response shapes of the insight endpoints (community health)."""

from .shared import Out, OverDays


class DayMembers(Out):
    day: str
    members: int


class ActiveMembers(Out):
    days: list[DayMembers]
    wau: int
    mau: int
    definition: str


class Activation(Out):
    posted: int
    replied: int
    bought: int
    any: int
    share: float


class NewMembers(Out):
    days: list[DayMembers]
    total: int
    activation: Activation


class PostingDay(Out):
    day: str
    threads: int
    replies: int


class Posting(Out):
    days: list[PostingDay]


class Replies(Out):
    threads: int
    answered: int
    answered_share: float
    median_first_reply_minutes: float | None


class RetentionWeek(Out):
    week: int
    members: int
    share: float


class Cohort(Out):
    week_start: str
    members: int
    weeks: list[RetentionWeek]


class Retention(Out):
    cohorts: list[Cohort]


class Contributor(Out):
    user_id: int
    username: str
    posts: int
    replies: int


class FunnelWeek(Out):
    week_start: str
    registered: int
    shoppers: int
    vips: int


class Funnel(Out):
    weeks: list[FunnelWeek]
    shopper_share: float
    vip_share: float


class ChatDay(Out):
    day: str
    messages: int
    chatters: int
    public_messages: int


class ChatActivity(Out):
    days: list[ChatDay]
    messages: int
    chatters: int


class EventTurnout(Out):
    event_id: int
    title: str
    starts_at: str
    signed_up: int
    attended: int
    no_shows: int


class EventAttendance(Out):
    events: int
    signed_up: int
    attended: int
    no_shows: int
    attendance_rate: float
    no_show_rate: float
    by_event: list[EventTurnout]


class CommunityHealth(OverDays):
    active: ActiveMembers
    new_members: NewMembers
    posting: Posting
    replies: Replies
    retention: Retention
    top_contributors: list[Contributor]
    funnel: Funnel
    chat: ChatActivity
    events: EventAttendance
