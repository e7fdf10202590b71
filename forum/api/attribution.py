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
from .core import DAY_RANGE, PAGE, day_range, endpoints, page_args

endpoint = endpoints(bp, tag="attribution")


@endpoint("/merchant", "GET", auth="merchant", response=responses.MerchantSettings)
def merchant_settings():
    """Your commission settings"""
    return dump_settings(service.settings_of(_user().id))


@endpoint(
    "/merchant",
    "PATCH",
    auth="merchant",
    body=MerchantSettingsBody,
    response=responses.MerchantSettings,
)
def update_merchant_settings(data: MerchantSettingsBody):
    """Set your CPS rate, CPA amounts and credit model"""
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
    start, end = reports.parse_range(*day_range())
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


def _report_query(groups: tuple[str, ...]) -> tuple:
    return (("group_by", {"type": "string", "enum": list(groups)}), *DAY_RANGE, *PAGE)


def _report_endpoint(name: str, rule: str, summary: str, auth: str, groups: tuple[str, ...]):
    """A funnel report: a merchant's own, or (admins) every merchant's."""

    def handler():
        return _report(_user().id if auth == "merchant" else None, groups)

    handler.__name__ = handler.__qualname__ = name
    return endpoint(
        rule,
        "GET",
        summary=summary,
        auth=auth,
        query=_report_query(groups),
        response=responses.Report,
    )(handler)


merchant_attribution = _report_endpoint(
    "merchant_attribution",
    "/merchant/attribution",
    "Your funnel by post, author, offer, room or day",
    "merchant",
    reports.MERCHANT_GROUPS,
)
admin_attribution = _report_endpoint(
    "admin_attribution",
    "/admin/attribution",
    "Every merchant's funnel (admins)",
    "admin",
    reports.GROUPS,
)


@endpoint(
    "/admin/attribution/payouts",
    "POST",
    auth="admin",
    body=PayoutBody,
    status=201,
    errors=(404, 409),
    response=responses.PayoutList,
)
def create_payout(data: PayoutBody):
    """Pay a merchant's approved commission"""
    return {"items": [dump_payout(p) for p in service.pay_out(_user(), data.merchant_id)]}


@endpoint("/me/earnings", "GET", query=PAGE, response=responses.EarningPage)
def my_earnings():
    """Conversions credited to your posts and messages"""
    user = _user()
    page = service.earnings(user.id, **page_args())
    return {**page.dump(dump_earning), "totals": service.earnings_summary(user.id)}


@endpoint("/merchant/signups/held", "GET", auth="merchant", response=responses.HeldSignupList)
def held_signups():
    """Sign-ups waiting for your review before they earn CPA"""
    return {"items": [dump_held_signup(c) for c in service.held_signups(_user().id)]}


# A merchant's verdict on a held sign-up, answered with the sign-up.
signup_verdict = endpoints(
    bp, tag="attribution", auth="merchant", errors=(409,), response=responses.HeldSignup
)


@signup_verdict("/merchant/signups/<int:user_id>/approve", "POST")
def approve_signup(user_id: int):
    """Approve a held sign-up: its CPA is earned"""
    return dump_held_signup(service.review_signup(_user(), user_id, approve=True))


@signup_verdict("/merchant/signups/<int:user_id>/reject", "POST")
def reject_signup(user_id: int):
    """Reject a held sign-up: it earns nothing"""
    return dump_held_signup(service.review_signup(_user(), user_id, approve=False))
