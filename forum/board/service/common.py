"""Board checks shared by the rest of the service: bodies, titles, who may post."""

import re

from flask import current_app

from ... import embeds, markup, ratelimit
from ...accounts.models import User
from ...errors import ValidationFailed, field_error
from ...permissions import check_not_silenced
from ...trust import service as trust

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TITLE_MIN, TITLE_MAX = 3, 200


# --- checks ------------------------------------------------------------------------


def check_body(body) -> str:
    if not isinstance(body, str) or not body.strip():
        raise field_error("body", "Write something first.")
    if len(body) > current_app.config["POST_MAX_LENGTH"]:
        raise field_error(
            "body", f"Keep it under {current_app.config['POST_MAX_LENGTH']:,} characters."
        )
    return body


def render_body(body) -> markup.Rendered:
    """Check a post body and render it; refuses what the renderer could not show whole."""
    rendered = markup.render(check_body(body))
    if rendered.too_deep:
        raise field_error(
            "body",
            f"Quotes and lists nest too deeply; keep them under {markup.MAX_NESTING // 2} levels.",
        )
    return rendered


def preview(user: User, body) -> str:
    """The composer's preview: the same checks and renderer as posting, rate limited."""
    if not isinstance(body, str):
        raise field_error("body", "Write something first.")
    if len(body) > current_app.config["POST_MAX_LENGTH"]:
        raise ValidationFailed("Too long to preview.", code="too_long")
    ratelimit.consume(
        current_app.config["PREVIEW_LIMIT"],
        "preview",
        user.id,
        message="You are previewing too fast; wait a moment.",
    )
    rendered = markup.render(body)
    if rendered.too_deep:
        raise ValidationFailed("Quotes and lists nest too deeply to preview.", code="too_deep")
    return str(embeds.preview(rendered))


def check_title(title) -> str:
    title = (title or "").strip() if isinstance(title, str) else ""
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise field_error("title", f"Use {TITLE_MIN}-{TITLE_MAX} characters.")
    return title


def check_can_post(user: User, rendered: markup.Rendered) -> None:
    """Raise unless ``user`` may post ``rendered`` now: not suspended or silenced, within the trust
    limits of their level (links, images, mentions, the newcomer delay) and POST_LIMIT."""
    check_not_silenced(user)
    trust.check_post_content(user, rendered.html, rendered.mentions)
    trust.check_post_rate(user)
    ratelimit.consume(
        current_app.config["POST_LIMIT"],
        "post",
        user.id,
        message="You are posting too fast; wait a moment.",
    )
