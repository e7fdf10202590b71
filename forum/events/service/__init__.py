"""Event rules: creating events, sign-ups with capacity and a waitlist, check-in,
host tools, reminders and attendance. Every write goes through here.

One room split by subject; this module is its front door, so callers keep
``from ..events import service`` and ``service.sign_up(...)``:

- ``events``: an event's fields checked (times through ``forum.times.parse_time``),
  created (with its cover image and discussion thread), changed, called off;
- ``sponsorship``: a host asks a merchant, and only the merchant's acceptance bills it;
- ``calendar``: upcoming and past pages, the month grid;
- ``signups``: seats and the waitlist (its module docstring states the concurrency rule);
- ``checkin``: participants, check-in at the door, attendance;
- ``messages``: the host's messages to participants;
- ``feeds``: the member's own sign-ups and secret calendar address;
- ``reminders``: the reminder and no-show sweeps;
- ``widgets``: what an ``[[event:ID]]`` card shows for a viewer the caller passes in.

A refusal raises a ``forum.errors`` ServiceError and the caller rolls back, so
nothing is written. Other features hear about sign-ups through ``forum.signals``:
``signup_made.send(signup, event=..., user=...)`` and
``signup_released.send(signup, event=..., status=...)``, inside the transaction.
No function here asks who is logged in: the viewer or actor is always an argument.
"""

from ...times import parse_time  # noqa: F401  (the one parser, shared with promotions)
from .audience import attended_count_sql, no_show_sql  # noqa: F401
from .calendar import Page, events_between, list_events, month_grid  # noqa: F401
from .checkin import (  # noqa: F401
    Participant,
    attendance_of,
    check_in,
    normalize_code,
    participants,
    undo_check_in,
)
from .common import (  # noqa: F401
    CAPACITY_MAX,
    CHECKIN_CLOSES_AFTER,
    CHECKIN_OPENS_BEFORE,
    CODE_ALPHABET,
    CODE_LENGTH,
    DESCRIPTION_MAX,
    IDEMPOTENCY_KEY_MAX,
    LOCATION_MAX,
    LONGEST_EVENT,
    MESSAGE_MAX,
    SEAT_ATTEMPTS,
    TITLE_MAX,
    TITLE_MIN,
    URL_MAX,
    check_can_act,
    check_host,
    event_url,
    find_signup,
    is_host,
    seats_payload,
    waitlist_count,
    waitlist_counts,
    waitlist_position,
)
from .engagement import attendance_sql, event_titles_sql, signups_sql, upcoming_events_sql  # noqa: F401
from .events import (  # noqa: F401
    cancel_event,
    check_event_fields,
    create_event,
    get_event,
    search_documents,
    update_event,
)
from .feeds import feed_for, feed_of, my_signups, user_for_feed  # noqa: F401
from .messages import message_participants, messages_for  # noqa: F401
from .reminders import email_reminder, record_no_shows, reminder_lead, send_reminders  # noqa: F401
from .signups import (  # noqa: F401
    SignupResult,
    cancel_signup,
    check_idempotency_key,
    check_signups_open,
    remove_participant,
    sign_up,
)
from .sponsorship import (  # noqa: F401
    accept_sponsorship,
    decline_sponsorship,
    end_sponsorship,
    request_sponsor,
    sponsorships_of,
)
from .widgets import card_state, load_cards  # noqa: F401
