"""Insight endpoints: community health for admins."""

from flask import request

from ..insight import service
from . import bp, responses
from .core import endpoints

endpoint = endpoints(bp, tag="insight")
DATE = {"type": "string", "format": "date"}


@endpoint(
    "/admin/health",
    "GET",
    auth="admin",
    query=(("from", DATE), ("to", DATE)),
    response=responses.CommunityHealth,
)
def admin_health():
    """Community health over a day range: active members, activation, posting, replies, retention
    cohorts, top contributors, the member funnel, chat activity, event attendance and no-shows"""
    return service.report(request.args.get("from"), request.args.get("to"))
