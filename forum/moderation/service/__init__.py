"""Moderation's front: rights and reasons, the audit log, flags and their scores, the
review queue, silencing and suspension, site settings.

- ``audit``: ``check_moderator``, ``check_admin``, ``check_reason``, ``record``, ``record_on``, ``audit_log``
- ``flags``: ``flag`` (a feature's own flag path), ``flag_target`` (the API and dialog),
  ``flags_against`` (trust's TL3 rule), ``accuracy``, ``flag_weight``
- ``queue``: ``queue``, ``claim``, ``decide``, ``holds_new_post`` / ``hold_for_review``
  (the first-post queue)
- ``sanctions``: ``silence``, ``suspend`` and their undoing
- ``settings``: ``site_settings``, ``setting``, ``update_settings``; ``mark`` / ``set_mark``
  (internal marks such as the demo's clock)
- ``users``: the admin's member search and role changes
"""

from ..models import DECISIONS, FLAG_REASONS, FLAG_TARGETS  # noqa: F401
from .audit import (  # noqa: F401
    audit_log,
    check_admin,
    check_moderator,
    check_reason,
    record,
    record_on,
)
from .flags import (  # noqa: F401
    accuracy,
    describe,
    flag,
    flag_target,
    flag_weight,
    flags_against,
    open_flag_counts,
    resolve_flags,
)
from .queue import (  # noqa: F401
    claim,
    decide,
    flags_of,
    get_item,
    hold_for_review,
    holds_new_post,
    pending_count,
    queue,
    restore,
    target_of,
)
from .sanctions import silence, suspend, unsilence, unsuspend  # noqa: F401
from .settings import (  # noqa: F401
    SETTINGS,
    brand,
    check_guidelines_accepted,
    guidelines_html,
    mark,
    set_mark,
    setting,
    site_settings,
    update_settings,
)
from .users import search_users, set_role  # noqa: F401
