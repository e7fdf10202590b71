"""Trust levels: the one place that reads, earns and checks them.

The front of the ``service/`` package; callers import from here:

- ``common``: ``level_of``, ``is_exempt``, ``meets``, ``require_level`` (403
  ``trust_level_required``), the level names;
- ``levels``: the editable rules, the activity counters, ``evaluate`` and staff ``grant``;
- ``limits``: what a newcomer may not do yet (one check per act);
- ``gates``: the commerce gates (off by default).
"""

from .badges import (  # noqa: F401
    BADGES,
    award,
    award_trusted_reviewers,
    badges_of,
    on_checked_in,
    on_reply,
    on_reply_liked,
    on_review_changed,
)
from .common import LEVEL_NAMES, LEVELS, is_exempt, level_of, meets, require_level  # noqa: F401
from .gates import ACTS, check_commerce, gate, may_earn, may_earn_id  # noqa: F401
from .levels import (  # noqa: F401
    METRICS,
    Progress,
    earned_level,
    evaluate,
    evaluate_all,
    evaluate_id,
    figures,
    grant,
    history,
    progress,
    record_like,
    record_reply,
    record_thread_read,
    record_visit,
    rules,
    rules_json,
    update_rules,
    window_days,
)
from .limits import (  # noqa: F401
    check_chat_rate,
    check_create_room,
    check_direct_message,
    check_post_content,
    check_post_rate,
    is_newcomer,
)
