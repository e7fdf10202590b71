from flask import request

from ..attribution import reports, service
from ..attribution.schemas import (
    MerchantSettingsBody,
    PayoutBody,
    dump_earning,
    dump_held_signup,
    dump_payout,
    dump_report_row,
    dump_settings,
)
from ..errors import field_error
from ..pagination import decode, encode, limit_from
from ..permissions import acting_user as _user
from . import bp, responses
from .core import endpoints

endpoint = endpoints(bp, tag="attribution")


@endpoint(
    "/merchant",
    "GET",
    summary="Your commission settings",
    auth="merchant",
    response=responses.MerchantSettings,
)
def merchant_settings():
    return dump_settings(service.settings_of(_user().id))


@endpoint(
    "/merchant",
    "PATCH",
    summary="Set your CPS rate, CPA amounts and credit model",
    auth="merchant",
    body=MerchantSettingsBody,
    errors=(422,),
    response=responses.MerchantSettings,
)
def update_merchant_settings(data: MerchantSettingsBody):
    settings = service.update_settings(
        _user(),
        cps_rate_bp=data.cps_rate_bp,
        cpa_cents=data.cpa_cents.model_dump() if data.cpa_cents else None,
        model=data.model,
        currency=data.currency,
    )
    return dump_settings(settings)


def _report(merchant_id: int | None, allowed: tuple[str, ...]):
    group = request.args.get("group_by", "post")
    if group not in allowed:
        raise field_error("group_by", f"Use one of {', '.join(allowed)}.")
    start, end = reports.parse_range(request.args.get("from"), request.args.get("to"))
    limit = limit_from(request.args.get("limit"))
    offset = 0
    after = decode(request.args.get("cursor"), 1)
    if after is not None:
        if not isinstance(after[0], int) or isinstance(after[0], bool) or after[0] < 0:
            raise field_error("cursor", "That cursor is not valid.")
        offset = after[0]
    report = reports.funnel(group, merchant_id=merchant_id, start=start, end=end)
    rows = report.rows[offset : offset + limit]
    more = offset + limit < len(report.rows)
    return {
        "group_by": group,
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "items": [dump_report_row(r) for r in rows],
        "next_cursor": encode([offset + limit]) if more else None,
        "totals": dump_report_row(report.totals),
    }


DATE = {"type": "string", "format": "date"}


def _report_query(groups: tuple[str, ...]) -> tuple:
    return (
        ("group_by", {"type": "string", "enum": list(groups)}),
        ("from", DATE),
        ("to", DATE),
        "cursor",
        "limit",
    )


@endpoint(
    "/merchant/attribution",
    "GET",
    summary="Your funnel by post, author, offer, room or day",
    auth="merchant",
    errors=(400, 422),
    query=_report_query(reports.MERCHANT_GROUPS),
    response=responses.Report,
)
def merchant_attribution():
    return _report(_user().id, reports.MERCHANT_GROUPS)


@endpoint(
    "/admin/attribution",
    "GET",
    summary="Every merchant's funnel (admins)",
    auth="admin",
    errors=(400, 422),
    query=_report_query(reports.GROUPS),
    response=responses.Report,
)
def admin_attribution():
    return _report(None, reports.GROUPS)


@endpoint(
    "/admin/attribution/payouts",
    "POST",
    summary="Pay a merchant's approved commission",
    auth="admin",
    body=PayoutBody,
    status=201,
    errors=(404, 409, 422),
    response=responses.PayoutList,
)
def create_payout(data: PayoutBody):
    return {"items": [dump_payout(p) for p in service.pay_out(_user(), data.merchant_id)]}


@endpoint(
    "/me/earnings",
    "GET",
    summary="Conversions credited to your posts and messages",
    errors=(400,),
    query=("cursor", "limit"),
    response=responses.EarningPage,
)
def my_earnings():
    user = _user()
    page = service.earnings(
        user.id, cursor=request.args.get("cursor"), limit=limit_from(request.args.get("limit"))
    )
    return {
        "items": [dump_earning(item) for item in page.items],
        "next_cursor": page.next_cursor,
        "totals": service.earnings_summary(user.id),
    }


@endpoint(
    "/merchant/signups/held",
    "GET",
    summary="Sign-ups waiting for your review before they earn CPA",
    auth="merchant",
    response=responses.HeldSignupList,
)
def held_signups():
    return {"items": [dump_held_signup(c) for c in service.held_signups(_user().id)]}


@endpoint(
    "/merchant/signups/<int:user_id>/approve",
    "POST",
    summary="Approve a held sign-up: its CPA is earned",
    auth="merchant",
    errors=(404, 409),
    response=responses.HeldSignup,
)
def approve_signup(user_id: int):
    return dump_held_signup(service.review_signup(_user(), user_id, approve=True))


@endpoint(
    "/merchant/signups/<int:user_id>/reject",
    "POST",
    summary="Reject a held sign-up: it earns nothing",
    auth="merchant",
    errors=(404, 409),
    response=responses.HeldSignup,
)
def reject_signup(user_id: int):
    return dump_held_signup(service.review_signup(_user(), user_id, approve=False))
