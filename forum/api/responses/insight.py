"""Response shapes of the insight endpoints (community health)."""

from pydantic import ConfigDict, Field

from .shared import Out


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


class CommunityHealth(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    active: ActiveMembers
    new_members: NewMembers
    posting: Posting
    replies: Replies
    retention: Retention
    top_contributors: list[Contributor]
