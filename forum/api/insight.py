"""Insight endpoints: community health for admins."""

from ..insight import service
from . import bp, responses
from .core import DAY_RANGE, day_range, endpoints

# Every insight endpoint reports on a range of days.
endpoint = endpoints(bp, tag="insight", query=DAY_RANGE)


@endpoint(
    "/admin/health",
    "GET",
    auth="admin",
    response=responses.CommunityHealth,
)
def admin_health():
    """Community health over a day range: active members, activation, posting, replies, retention
    cohorts, top contributors, the member funnel, chat activity, event attendance and no-shows"""
    return service.report(*day_range())
