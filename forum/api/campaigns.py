"""Segments, campaigns, member settings and password reset (shared/API.md, Campaigns)."""

from ..campaigns import service
from ..campaigns.schemas import (
    Accepted,
    CampaignBody,
    CampaignOut,
    PasswordResetBody,
    PasswordResetConfirmBody,
    ResetDone,
    RuleBody,
    SegmentBody,
    SegmentOut,
    SegmentPreview,
    SettingsBody,
    SettingsOut,
    Unsubscribed,
    dump_segment,
)
from ..permissions import acting_user as _user
from . import bp
from .core import endpoints

endpoint = endpoints(bp, tag="campaigns")


@endpoint(
    "/admin/segments",
    "POST",
    summary="Save a segment (a rule over members) and count it",
    auth="admin",
    body=SegmentBody,
    status=201,
    response=SegmentOut,
)
def create_segment(data: SegmentBody):
    segment = service.create_segment(_user(), data.name, data.rule)
    return dump_segment(segment, service.count(segment.rule))


@endpoint(
    "/admin/segments/preview",
    "POST",
    summary="Count a rule's members and show a sample (the form's live count)",
    auth="admin",
    body=RuleBody,
    response=SegmentPreview,
)
def preview_segment(data: RuleBody):
    service.check_admin(_user())
    return {"member_count": service.count(data.rule), "sample": service.sample(data.rule)}


@endpoint(
    "/admin/segments/<int:segment_id>",
    "GET",
    summary="A segment with its member count now",
    auth="admin",
    response=SegmentOut,
)
def get_segment(segment_id: int):
    segment = service.get_segment(_user(), segment_id)
    return dump_segment(segment, service.count(segment.rule))


@endpoint(
    "/admin/campaigns",
    "POST",
    summary="Create a draft email or SMS campaign to a segment",
    auth="admin",
    body=CampaignBody,
    status=201,
    response=CampaignOut,
)
def create_campaign(data: CampaignBody):
    campaign = service.create_campaign(_user(), **data.model_dump())
    return service.report(campaign)


@endpoint(
    "/admin/campaigns/<int:campaign_id>/send",
    "POST",
    summary="Send now: the background workers deliver it in batches",
    auth="admin",
    status=202,
    errors=(409,),
    response=CampaignOut,
)
def send_campaign(campaign_id: int):
    campaign = service.send_now(_user(), service.get_campaign(_user(), campaign_id))
    return service.report(campaign)


@endpoint(
    "/admin/campaigns/<int:campaign_id>",
    "GET",
    summary="A campaign's status and report",
    auth="admin",
    response=CampaignOut,
)
def get_campaign(campaign_id: int):
    campaign = service.get_campaign(_user(), campaign_id)
    return service.report(campaign)


@endpoint(
    "/me/settings",
    "PATCH",
    summary="Marketing consent and notification-email preferences",
    body=SettingsBody,
    response=SettingsOut,
)
def update_member_settings(data: SettingsBody):
    return service.update_settings(_user(), **data.model_dump(exclude_unset=True))


@endpoint(
    "/me/settings",
    "GET",
    summary="The caller's contact settings",
    response=SettingsOut,
)
def get_member_settings():
    return service.settings_of(_user())


@endpoint(
    "/auth/password-reset",
    "POST",
    summary="Email a reset link (the same answer whether or not the address exists)",
    auth="anyone",
    body=PasswordResetBody,
    status=202,
    tag="accounts",
    limits=("PASSWORD_RESET_LIMIT",),
    response=Accepted,
)
def password_reset(data: PasswordResetBody):
    service.request_password_reset(data.email)
    return {"accepted": True}


@endpoint(
    "/auth/password-reset/confirm",
    "POST",
    summary="Set a new password with a reset token (single use, expiring)",
    auth="anyone",
    body=PasswordResetConfirmBody,
    errors=(400,),
    tag="accounts",
    limits=("PASSWORD_RESET_LIMIT",),
    response=ResetDone,
)
def password_reset_confirm(data: PasswordResetConfirmBody):
    user = service.confirm_password_reset(data.token, data.password)
    return {"username": user.username}


@endpoint(
    "/unsubscribe/<token>",
    "POST",
    summary="RFC 8058 one-click unsubscribe (the List-Unsubscribe URL; no session needed)",
    auth="anyone",
    response=Unsubscribed,
)
def one_click_unsubscribe(token: str):
    return {"unsubscribed": service.unsubscribe(token)}
