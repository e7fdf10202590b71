"""Campaign rules: segments, campaigns and their delivery, consent and contact
settings, account email (verification, password reset, email change) and
notification email. One room split by subject; this module is its front door
(``from ..campaigns import service`` then ``service.<function>``):

``segments`` (rules compiled to one SQL query, keyset streaming), ``campaigns``
(creating, the state machine, rendering a message), ``delivery`` (planning, claimed
batches, the sweep), ``reports`` (counts, attribution, lift vs holdout), ``contacts``
(consent, phone, suppression, unsubscribe), ``bounces`` (DSNs in, suppression),
``pacing`` (the send rate shared by all workers), ``account_mail``, ``notify_mail``,
``tracking`` (opens and clicks).
"""

from ...errors import Conflict, Forbidden, NotFound, ValidationFailed  # noqa: F401
from .account_mail import (  # noqa: F401
    InvalidToken,
    check_email_change,
    check_verification,
    confirm_email_change,
    confirm_password_reset,
    is_verified,
    issue_token,
    on_registered,
    peek,
    queue_mail,
    request_email_change,
    request_password_reset,
    send_verification,
    verify_email,
)
from .bounces import bounce_tag, tag_headers  # noqa: F401
from .bounces import parse as parse_bounce  # noqa: F401
from .bounces import receive as receive_bounce  # noqa: F401
from .campaigns import (  # noqa: F401
    MERGE_FIELDS,
    cancel,
    check_admin,
    create_campaign,
    create_segment,
    get_campaign,
    get_segment,
    list_campaigns,
    list_segments,
    pause,
    read_link,
    read_open,
    render_letter,
    resume,
    schedule,
    send_now,
    send_test,
    sms_info,
    update_segment,
)
from .contacts import (  # noqa: F401
    NOTIFICATION_KINDS,
    PREF_CHOICES,
    confirm_phone,
    contact,
    is_suppressed,
    read_unsubscribe,
    settings_of,
    start_phone_verification,
    suppress,
    unsubscribe,
    unsubscribe_token,
    update_settings,
)
from .delivery import finish_if_done, holdout_picks, plan, requeue, send_batch, tick  # noqa: F401
from .notify_mail import (  # noqa: F401
    on_notification,
    on_order_changed,
    send_digests,
    send_notification_email,
    send_order_email,
    send_pending,
)
from .reports import (  # noqa: F401
    attributed,
    audience_facts,
    audience_sql,
    campaigns_of,
    campaigns_with_code,
    carriers_of,
    counts,
    lift,
    report,
    series,
)
from .segments import FIELDS, OPS, check_rule, count, sample, stream  # noqa: F401
from .tracking import link_coupon, record_click, record_open  # noqa: F401
