"""Chat rules: rooms, membership, messages, moderation, presence.

Every write goes through here, whichever door it came in by (socket event, API,
page, CLI, demo). Checks come first and raise ``forum.errors`` before anything is
written; live events are queued with ``realtime.announce`` and leave only after
the commit.

Ordering: taking a message's ``seq`` is ``UPDATE chat_rooms SET message_seq =
message_seq + 1 ... RETURNING``, which holds the room row's lock until commit, so
writers of one room are serialised and ``id``/``seq`` grow in commit order within a
room. Clients order by id and treat a seq jump as "I missed something: resync".

Access: a public room is readable and writable by every logged-in member who is
not suspended or muted there; a private or direct room only by its members. A room
the viewer may not read does not exist for them (``NotFound``), so a refusal never
reveals a private room.

One subject per module; this package is the front door: callers keep
``from forum.chat import service`` and use ``service.<function>``.

- ``common``: constants, SQL helpers, every check (read/write/moderate, slug, name, body)
- ``rooms``: public, private and direct rooms, members, invite and remove
- ``reading``: the sidebar, unread counts, joining a public room, marking read
- ``messages``: sending, history, resync, deleting
- ``moderation``: mute and unmute
- ``presence``: socket connections, who is online, sweeping dead or ended sockets

Socket actions that must wait for the commit (a removed member's sockets leave the
room's channel, swept sockets close) are queued on ``forum.realtime``'s one
after-commit queue (``realtime.leave_room``, ``realtime.disconnect_sockets``).
"""

from .audience import (  # noqa: F401
    connected_since,
    embedded_in_messages_sql,
    message_count_sql,
    said_since_sql,
)
from .common import (  # noqa: F401
    ANY_SLUG_RE,
    CONTROL_RE,
    DIRECT_PREFIX,
    HISTORY_PAGE,
    MUTE_MAX_MINUTES,
    NAME_MAX,
    NAME_MIN,
    NAMESPACE,
    NONCE_MAX,
    PRIVATE_MEMBERS_MAX,
    PUBLIC_ROOMS_CHANNEL,
    RESERVED_SLUGS,
    SLUG_RE,
    SYNC_PAGE,
    TOPIC_MAX,
    Page,
    RoomEntry,
    can_moderate,
    check_body,
    check_can_write,
    check_name,
    check_nonce,
    check_send_rate,
    check_slug,
    check_topic,
    clean_text,
    insert_ignore,
    is_user,
    may_read,
    membership,
    parse_message_id,
    presence_ttl,
)
from .describe import (  # noqa: F401
    describe_messages,
    message_document,
    public_message_ids,
    search_documents,
)
from .engagement import (  # noqa: F401
    message_readers_sql,
    messages_between,
    public_room_engagement_sql,
    public_rooms_sql,
    widget_messages_sql,
)
from .messages import (  # noqa: F401
    delete_message,
    deleted_between,
    get_message,
    history,
    message_url,
    messages_after,
    send_message,
)
from .moderation import (  # noqa: F401
    mute,
    unmute,
)
from .presence import (  # noqa: F401
    announce_presence,
    drop_connection,
    enter,
    exit_room,
    online_ids,
    online_users,
    register_connection,
    sockets_of,
    sweep_connections,
    touch_connection,
)
from .reading import (  # noqa: F401
    join,
    mark_read,
    rooms_for,
    unread_count,
    unread_counts,
)
from .rooms import (  # noqa: F401
    can_manage_members,
    create_private_room,
    create_public_room,
    find_room,
    find_user,
    get_room,
    invite,
    open_direct,
    remove_member,
    room_members,
)
