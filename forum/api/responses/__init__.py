"""The API's response shapes, as pydantic models.

Each endpoint names its model (``endpoint(..., response=Thread)``); the view's
result is validated and serialised through it, and /api/v1/openapi.json
publishes the schema pydantic generates from the same model. So the document
cannot drift from what is sent: a field a dump function adds without the model
here fails the test suite (``extra="forbid"``), which validates every API
response it produces against the document (tests/api/openapi_check.py).

Keys a dump function adds only sometimes (``unread``, ``my_signup``...) have a
default and stay absent when absent (the view dumps with ``exclude_unset``).

One module a feature (``responses/board.py``...); endpoints use them as
``responses.Thread`` through this front.
"""

from .accounts import (  # noqa: F401
    ApiToken,
    ApiTokenPage,
    Avatar,
    Me,
    NewApiToken,
    OpenAPIDocument,
    Registered,
    Token,
    User,
)
from .attribution import (  # noqa: F401
    Conversion,
    CpaCents,
    CreditSource,
    Earning,
    EarningPage,
    EarningTotals,
    HeldSignup,
    HeldSignupList,
    MerchantSettings,
    Offer,
    OfferRef,
    Payout,
    PayoutList,
    Report,
    ReportRow,
)
from .board import (  # noqa: F401
    Category,
    Likes,
    ListedThread,
    ListedThreadPage,
    NewThread,
    NotificationLevel,
    Post,
    PostPage,
    ReadMark,
    Thread,
    ThreadPage,
    ThreadRef,
    ThreadSummary,
)
from .chat import (  # noqa: F401
    Author,
    ChatMessage,
    ChatMessagePage,
    Mute,
    ReadState,
    Room,
    RoomDetail,
    RoomList,
    RoomListed,
)
from .evaluation import AdminRollup, MerchantRollup, PromotionEvaluation  # noqa: F401
from .events import (  # noqa: F401
    CheckedIn,
    Event,
    EventMessage,
    EventPage,
    MyEvent,
    MyEventList,
    Participant,
    ParticipantList,
    Signup,
    SignupResult,
    SponsorRequest,
    Sponsorship,
    Sponsorships,
)
from .insight import CommunityHealth  # noqa: F401
from .moderation import Flag, QueueItem, QueuePage, SanctionedUser  # noqa: F401
from .promotions import (  # noqa: F401
    GroupBuy,
    LadderStep,
    MyTeam,
    ProductRef,
    ServerTime,
    Snap,
    Team,
    TeamCounts,
    TeamMember,
)
from .recommend import Recommendations  # noqa: F401
from .reviews import (  # noqa: F401
    ExperienceReport,
    HelpfulCount,
    Review,
    ReviewPage,
    ReviewReply,
)
from .search import SearchHit, SearchPage  # noqa: F401
from .shared import (  # noqa: F401
    Cursor,
    Embed,
    Out,
    Timestamp,
    UserRef,
)
from .shop import (  # noqa: F401
    Merchant,
    Order,
    OrderAdjustment,
    OrderEvent,
    OrderItem,
    OrderPage,
    OrderSource,
    Payment,
    Product,
    ProductList,
)
