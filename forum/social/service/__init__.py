"""Social rules: reactions, bookmarks, drafts and the user card. The front of the
``service/`` package; callers (views, the API, other features) import from here."""

from .bookmarks import (  # noqa: F401
    KINDS,
    Listed,
    add_bookmark,
    bookmarked_ids,
    describe,
    list_bookmarks,
    remove_bookmark,
    toggle_bookmark,
)
from .cards import Card, may_message, user_card  # noqa: F401
from .drafts import (  # noqa: F401
    discard_draft,
    find_draft,
    get_draft,
    list_drafts,
    on_post_created,
    save_draft,
)
from .reactions import (  # noqa: F401
    REACTIONS,
    Reaction,
    add_reaction,
    reactions_of,
    remove_reaction,
    toggle_reaction,
)
