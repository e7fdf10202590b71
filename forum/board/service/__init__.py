"""Board rules: categories, threads, posts, edits, likes, mentions, search.

Every write goes through here. Counters move in SQL (``post_count + 1``) so
concurrent replies never lose an update, and a post's position in its thread is
taken from the thread's counter in the same statement, so page N of a thread is
a range scan however deep it is.

The front of the ``service/`` package: ``common`` (checks), ``categories``,
``threads``, ``posts``, ``reading`` (unread/new, the front page's lists), ``watching`` (notification levels) and ``search``; callers import from here.
"""

from ...errors import Conflict  # noqa: F401  (callers catch it as service.Conflict)
from ...pagination import Page  # noqa: F401
from ...permissions import can_moderate  # noqa: F401
from ..lookups import (  # noqa: F401
    live_thread_ids,
    report_categories,
    threads_embedding,
    threads_with_ids,
)
from ..moderating import hold_post, move_thread, set_hidden, set_locked, set_pinned  # noqa: F401
from .access import (  # noqa: F401
    check_can_post_in,
    hidden_category_ids,
    may_post,
    may_read,
    readable,
    update_category,
)
from .audience import (  # noqa: F401
    embedded_in_posts_sql,
    first_replies,
    posted_in_categories_sql,
    posted_since_sql,
    posts_between,
    readers_of_posts_with,
)
from .categories import (  # noqa: F401
    create_category,
    get_category,
    list_categories,
    move_category,
    set_experience_reports,
)
from .common import (  # noqa: F401
    SLUG_RE,
    TITLE_MAX,
    TITLE_MIN,
    check_body,
    check_can_post,
    check_title,
    preview,
    render_body,
)
from .engagement import (  # noqa: F401
    REPLY_WEIGHT,
    recommendable_threads_sql,
    thread_engagement_sql,
)
from .posts import (  # noqa: F401
    _add_post,
    _notify_for_post,
    _post_url,
    can_see_post,
    check_can_change,
    delete_post,
    edit_post,
    get_post,
    like,
    liked_post_ids,
    page_count,
    page_of,
    post_to_change,
    posts_after,
    posts_on_page,
    reply,
    revisions,
    unlike,
    visible_post,
)
from .reading import (  # noqa: F401
    PERIODS,
    VIEWS,
    Listing,
    ReadState,
    first_unread_post,
    listing,
    mark_own_post,
    mark_read,
    read_states,
    thread_list,
)
from .search import (  # noqa: F401
    describe_posts,
    post_document,
    readable_category_ids,
    readable_post_ids,
    recent_posts_by,
    search_documents,
    thread_post_ids,
)
from .threads import (  # noqa: F401
    check_can_rename,
    create_thread,
    first_post,
    get_thread,
    list_threads,
    rename_thread,
    title_revisions,
    visible_threads,
)
from .watching import (  # noqa: F401
    LEVELS,
    category_level,
    set_category_level,
    set_thread_level,
    thread_level,
    track_on_reply,
    users_at,
)
