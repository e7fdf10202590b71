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
    "/admin/segments", "POST", auth="admin", body=SegmentBody, status=201, response=SegmentOut
)
def create_segment(data: SegmentBody):
    """Save a segment (a rule over members) and count it"""
    segment = service.create_segment(_user(), data.name, data.rule)
    return dump_segment(segment, service.count(segment.rule))


@endpoint("/admin/segments/preview", "POST", auth="admin", body=RuleBody, response=SegmentPreview)
def preview_segment(data: RuleBody):
    """Count a rule's members and show a sample (the form's live count)"""
    service.check_admin(_user())
    return {"member_count": service.count(data.rule), "sample": service.sample(data.rule)}


@endpoint("/admin/segments/<int:segment_id>", "GET", auth="admin", response=SegmentOut)
def get_segment(segment_id: int):
    """A segment with its member count now"""
    segment = service.get_segment(_user(), segment_id)
    return dump_segment(segment, service.count(segment.rule))


@endpoint(
    "/admin/campaigns", "POST", auth="admin", body=CampaignBody, status=201, response=CampaignOut
)
def create_campaign(data: CampaignBody):
    """Create a draft email or SMS campaign to a segment"""
    campaign = service.create_campaign(_user(), **data.model_dump())
    return service.report(campaign)


@endpoint(
    "/admin/campaigns/<int:campaign_id>/send",
    "POST",
    auth="admin",
    status=202,
    errors=(409,),
    response=CampaignOut,
)
def send_campaign(campaign_id: int):
    """Send now: the background workers deliver it in batches"""
    campaign = service.send_now(_user(), service.get_campaign(_user(), campaign_id))
    return service.report(campaign)


@endpoint("/admin/campaigns/<int:campaign_id>", "GET", auth="admin", response=CampaignOut)
def get_campaign(campaign_id: int):
    """A campaign's status and report"""
    campaign = service.get_campaign(_user(), campaign_id)
    return service.report(campaign)


@endpoint("/me/settings", "PATCH", body=SettingsBody, response=SettingsOut)
def update_member_settings(data: SettingsBody):
    """Marketing consent and notification-email preferences"""
    return service.update_settings(_user(), **data.model_dump(exclude_unset=True))


@endpoint("/me/settings", "GET", response=SettingsOut)
def get_member_settings():
    """The caller's contact settings"""
    return service.settings_of(_user())


@endpoint(
    "/auth/password-reset",
    "POST",
    auth="anyone",
    body=PasswordResetBody,
    status=202,
    tag="accounts",
    limits=("PASSWORD_RESET_LIMIT",),
    response=Accepted,
)
def password_reset(data: PasswordResetBody):
    """Email a reset link (the same answer whether or not the address exists)"""
    service.request_password_reset(data.email)
    return {"accepted": True}


@endpoint(
    "/auth/password-reset/confirm",
    "POST",
    auth="anyone",
    body=PasswordResetConfirmBody,
    tag="accounts",
    limits=("PASSWORD_RESET_LIMIT",),
    response=ResetDone,
)
def password_reset_confirm(data: PasswordResetConfirmBody):
    """Set a new password with a reset token (single use, expiring)"""
    user = service.confirm_password_reset(data.token, data.password)
    return {"username": user.username}


@endpoint("/unsubscribe/<token>", "POST", auth="anyone", response=Unsubscribed)
def one_click_unsubscribe(token: str):
    """RFC 8058 one-click unsubscribe (the List-Unsubscribe URL; no session needed)"""
    return {"unsubscribed": service.unsubscribe(token)}
