"""Site settings an admin edits (name, logo, guidelines, flag and first-post thresholds).

A key with no row reads as the app config's default (``SITE_NAME``,
``FLAG_HIDE_SCORE``, ``FIRST_POSTS_HELD``...), so a fresh site works unset.

``brand`` (the name and logo every page's header and ``<title>`` show) is read from the
shared cache (``forum.pagecache``: Redis for every worker, in-process outside
production), so a page costs no query for it; saving either setting forgets the cached
brand once the save commits, for every worker sharing the cache."""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from ... import markup, realtime, signals
from ...clock import now
from ...errors import ValidationFailed
from ...extensions import db
from ...pagecache import cache
from ..models import SiteSetting
from .audit import check_admin, check_reason, record


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    kind: str  # "text", "markdown", "int", "url"
    config: str | None = None  # the app config key holding the default
    max: int = 200


SETTINGS = (
    SettingSpec("site_name", "Site name", "text", "SITE_NAME", 60),
    SettingSpec("logo_url", "Logo address (https:// or /static/...)", "url", None, 300),
    SettingSpec("guidelines", "Community guidelines (Markdown)", "markdown", None, 20_000),
    SettingSpec(
        "flag_hide_score", "Flag score that hides an item", "int", "FLAG_HIDE_SCORE", 100_000
    ),
    SettingSpec(
        "first_posts_held", "New accounts' posts held for review", "int", "FIRST_POSTS_HELD", 50
    ),
)
BY_KEY = {spec.key: spec for spec in SETTINGS}


def _default(spec: SettingSpec):
    if spec.config is None:
        return 0 if spec.kind == "int" else ""
    return current_app.config[spec.config]


def _parse(spec: SettingSpec, raw: str):
    return int(raw) if spec.kind == "int" else raw


def site_settings() -> dict:
    """Every setting, stored or default."""
    stored = {row.key: row.value for row in db.session.scalars(select(SiteSetting))}
    return {
        spec.key: _parse(spec, stored[spec.key]) if spec.key in stored else _default(spec)
        for spec in SETTINGS
    }


def setting(key: str):
    spec = BY_KEY[key]
    row = db.session.get(SiteSetting, key)
    return _parse(spec, row.value) if row is not None else _default(spec)


BRAND_KEYS = ("site_name", "logo_url")
BRAND_CACHE_KEY = "site-brand"


def brand() -> dict[str, str]:
    """``{"site_name", "logo_url"}`` for every page: from the cache, else one query
    (then cached). A cache outage only costs the query."""
    try:
        cached = cache.get(BRAND_CACHE_KEY)
    except Exception:  # noqa: BLE001  (no cache: read the rows)
        cached = None
    if isinstance(cached, dict):
        return cached
    stored = {
        row.key: row.value
        for row in db.session.scalars(select(SiteSetting).where(SiteSetting.key.in_(BRAND_KEYS)))
    }
    value = {key: stored.get(key) or str(_default(BY_KEY[key])) for key in BRAND_KEYS}
    try:
        cache.set(BRAND_CACHE_KEY, value)
    except Exception:  # noqa: BLE001  (serve it uncached)
        current_app.logger.warning("site settings: could not cache the brand")
    return value


def forget_brand() -> None:
    try:
        cache.delete(BRAND_CACHE_KEY)
    except Exception:  # noqa: BLE001  (the cache's own timeout bounds a stale brand)
        current_app.logger.warning("site settings: could not forget the cached brand")


def _check(spec: SettingSpec, value) -> str:
    if spec.kind == "int":
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= spec.max:
            raise ValidationFailed(fields={spec.key: [f"Use a whole number from 0 to {spec.max}."]})
        return str(value)
    if not isinstance(value, str) or len(value) > spec.max:
        raise ValidationFailed(fields={spec.key: [f"Use at most {spec.max} characters."]})
    value = value.strip()
    if spec.kind == "url" and value and not value.startswith(("https://", "/static/")):
        raise ValidationFailed(fields={spec.key: ["Use an https:// address or /static/..."]})
    if spec.kind == "text" and not value:
        raise ValidationFailed(fields={spec.key: ["This cannot be empty."]})
    return value


def update_settings(actor, values: dict, reason: str = "") -> dict:
    """Admins only, with a reason; every value checked before any is written (a bad one changes
    nothing). Unknown keys are refused. Audited with the keys that changed."""
    check_admin(actor)
    reason = check_reason(reason)
    unknown = sorted(set(values) - set(BY_KEY))
    if unknown:
        raise ValidationFailed(fields={key: ["Unknown setting."] for key in unknown})
    checked = {key: _check(BY_KEY[key], value) for key, value in values.items()}
    current = site_settings()
    changed = []
    for key, value in checked.items():
        if str(current[key]) == value:
            continue
        row = db.session.get(SiteSetting, key)
        if row is None:
            db.session.add(SiteSetting(key=key, value=value))
        else:
            row.value = value
        changed.append(key)
    if changed:
        db.session.flush()
        record(actor, "settings.update", "settings", 0, reason=reason, keys=changed)
        # Every page shows the site's settings (its name, logo, notices): kept pages go.
        signals.board_changed.send(None, what="site_settings")
        if set(changed) & set(BRAND_KEYS):
            # After the commit: a page rendered meanwhile cannot cache the old brand again.
            realtime.after_commit(forget_brand)
    return site_settings()


MARK_PREFIX = "mark:"  # internal keys, beside the admin's settings but never one of them


def mark(key: str) -> str | None:
    """An internal mark the site keeps for itself (e.g. the demo's clock); None when unset.
    Marks are not settings: site_settings() and the admin page never show them."""
    row = db.session.get(SiteSetting, MARK_PREFIX + key)
    return row.value if row is not None else None


def set_mark(key: str, value: str) -> None:
    row = db.session.get(SiteSetting, MARK_PREFIX + key)
    if row is None:
        db.session.add(SiteSetting(key=MARK_PREFIX + key, value=value))
    else:
        row.value = value
    db.session.flush()


def guidelines_html():
    """The community guidelines as sanitised Markup ("" when none are written)."""
    text = setting("guidelines")
    return Markup(markup.render(text).html) if text else ""  # noqa: S704 (nh3-sanitised)


def check_guidelines_accepted(accepted) -> datetime | None:
    """At sign-up: when guidelines are written they must be accepted (ValidationFailed
    on ``accept_guidelines``); returns the acceptance time, None when there are none."""
    if not setting("guidelines"):
        return None
    if accepted is not True:
        raise ValidationFailed(
            fields={"accept_guidelines": ["Please read and accept the community guidelines."]}
        )
    return now()
