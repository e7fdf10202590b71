"""Account rules: registration, authentication, sessions, roles, API tokens."""

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from .. import ratelimit, realtime, signals
from ..clock import now
from ..errors import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from ..extensions import db
from ..permissions import check_member
from .avatars import AVATARS
from .models import ROLES, TOKEN_SCOPES, ApiToken, User


@dataclass(frozen=True)
class ProfileStat:
    """A line another feature adds to a profile page: its answer to ``signals.profile_shown``."""

    label: str
    value: str
    href: str | None = None


USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,30}[A-Za-z0-9]$")
PASSWORD_MIN = 8
PASSWORD_MAX = 256
BIO_MAX = 1000
# zxcvbn's score: 0 (top-10 password) .. 4; 3 is "safely unguessable" online.
PASSWORD_MIN_SCORE = 3
ACCOUNT_LIMIT_SCOPE = "login-account"
ADDRESS_LIMIT_SCOPE = "login-address"
BAD_CREDENTIALS = "Wrong username or password."
TOKEN_TOUCH_EVERY = timedelta(minutes=1)  # how stale last_used_at may get


def username_key(username: str) -> str:
    return username.strip().casefold()


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hash_method())


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash of a random password made with ``method``: an unknown username is checked
    against it, so it costs as long as a wrong password and the timing tells nothing."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def _hash_parameters(password_hash: str) -> str:
    return password_hash.split("$", 1)[0]  # "scrypt:32768:8:1", "pbkdf2:sha256:1000"


def _needs_rehash(password_hash: str) -> bool:
    return _hash_parameters(password_hash) != _hash_parameters(_dummy_hash(_hash_method()))


def password_problem(password, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why ``password`` is refused (too short, too long, common or guessable), or None."""
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    # The username and the email's local part (not its domain, shared by everyone there).
    names = [value.split("@", 1)[0] for value in user_inputs if value]
    inputs: list[str] = []
    for name in names:
        inputs += [name, *re.split(r"[._-]", name)]
    # zxcvbn judges the first 72 characters (its own cap; longer costs time, not strength).
    result = zxcvbn(password, user_inputs=[value for value in inputs if value])
    if result["score"] >= PASSWORD_MIN_SCORE:
        return None
    hint = result["feedback"].get("warning") or "This password is too easy to guess."
    return f"{hint.rstrip('.')}. Add another word or two; uncommon words are better."


def check_registration(username: str, email: str, password: str) -> tuple[str, str]:
    """Validate the three fields; return (username, normalised email) or raise."""
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        errors["username"] = [
            "Use 3-32 letters, digits, '-' or '_', starting and ending with a letter or digit."
        ]
    try:
        email = validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors["email"] = ["Enter a valid email address."]
    problem = password_problem(password, user_inputs=(username, str(email or "")))
    if problem:
        errors["password"] = [problem]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    if db.session.scalar(select(User.id).where(User.username_key == username_key(username))):
        raise Conflict(
            "That username is taken.",
            code="username_taken",
            fields={"username": ["That username is taken."]},
        )
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(
            "An account with that email exists.",
            code="email_taken",
            fields={"email": ["An account with that email exists."]},
        )
    return username, email


def register(
    username: str,
    email: str,
    password: str,
    *,
    role: str = "member",
    guidelines_accepted_at=None,
) -> User:
    """Create a member. Raises ValidationFailed or Conflict (username_taken/email_taken).
    ``guidelines_accepted_at``: when they accepted the community guidelines (sign-up form)."""
    if role not in ROLES:
        raise ValidationFailed(fields={"role": [f"Choose one of {', '.join(ROLES)}."]})
    username, email = check_registration(username, email, password)
    user = User(
        username=username,
        username_key=username_key(username),
        email=email,
        password_hash=_hash_password(password),
        role=role,
        guidelines_accepted_at=guidelines_accepted_at,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as exc:  # a concurrent registration won the unique constraint
        raise Conflict("That username or email is taken.", code="username_taken") from exc
    # Members (the welcome points) and attribution (sign-up candidates) connect to this.
    signals.user_registered.send(user)
    return user


def authenticate(username: str, password: str, *, address: str | None = None) -> User:
    """Return the user for these credentials.

    Failed attempts are limited per (account, client address)
    (``LOGIN_LIMIT_PER_ACCOUNT``) and per address over all accounts
    (``LOGIN_FAILURES_PER_IP``): someone guessing at an account from one place
    never locks its owner out from another. Unknown usernames are counted, checked
    against a dummy hash and answered exactly like wrong passwords, so neither the
    answer nor its timing reveals whether an account exists. A hash made with older
    parameters is upgraded on a successful login.
    """
    key = username_key(username or "")[:64]
    address = address or "unknown"
    account_spec = current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]
    address_spec = current_app.config["LOGIN_FAILURES_PER_IP"]
    if not (
        ratelimit.allowed(account_spec, ACCOUNT_LIMIT_SCOPE, key, address)
        and ratelimit.allowed(address_spec, ADDRESS_LIMIT_SCOPE, address)
    ):
        raise RateLimited("Too many failed attempts; wait a minute and try again.")
    user = db.session.scalar(select(User).where(User.username_key == key)) if key else None
    stored = user.password_hash if user is not None else _dummy_hash(_hash_method())
    matches = check_password_hash(stored, password if isinstance(password, str) else "")
    if user is None or not matches:
        ratelimit.record(account_spec, ACCOUNT_LIMIT_SCOPE, key, address)
        ratelimit.record(address_spec, ADDRESS_LIMIT_SCOPE, address)
        raise NotAuthenticated(BAD_CREDENTIALS, code="bad_credentials")
    if user.is_suspended:
        raise NotAuthenticated(suspension_notice(user), code="suspended")
    if _needs_rehash(user.password_hash):
        user.password_hash = _hash_password(password)
    return user


def suspension_notice(user: User) -> str:
    """What a suspended member is told: until when, and the moderator's reason."""
    until = user.suspended_until.strftime("%Y-%m-%d %H:%M UTC") if user.suspended_until else ""
    reason = f" Reason: {user.suspension_reason}" if user.suspension_reason else ""
    return f"This account is suspended until {until}.{reason}"


def set_suspension(user: User, until, reason: str = "") -> None:
    """Suspend ``user`` until ``until`` (None lifts it); a suspension ends its sessions.
    Moderation's service decides and audits; this writes the account."""
    user.suspended_until = until
    user.suspension_reason = reason if until is not None else ""
    if until is not None:
        end_all_sessions(user)


def set_silence(user: User, until, reason: str = "") -> None:
    """Silence ``user`` (reads, logs in, cannot post or chat) until ``until`` (None lifts it)."""
    user.silenced_until = until
    user.silence_reason = reason if until is not None else ""


# Every request and every socket event loads its user: built once (an ORM statement's
# building and cache key cost more than its run; see forum/chat/service/messages.py).
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: ``"<id>:<session_version>"``; an older version is logged out."""
    user_id, _, version = (session_id or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.scalars(_USER_BY_ID, {"user_id": int(user_id)}).first()
    if user is None or user.session_version != int(version) or user.is_suspended:
        return None
    return user


def end_all_sessions(user: User) -> None:
    """Invalidate every session and remember cookie of ``user`` and close their sockets."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )
    db.session.refresh(user)
    realtime.disconnect_user(user.id)


def _set_password(user: User, new_password: str, field: str) -> None:
    """A new password (refused as ``field`` when weak): every session and API token of
    the account ends."""
    problem = password_problem(new_password, user_inputs=(user.username, user.email))
    if problem:
        raise ValidationFailed(fields={field: [problem]})
    user.password_hash = _hash_password(new_password)
    revoke_all_tokens(user)
    end_all_sessions(user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password or ""):
        raise ValidationFailed(fields={"current_password": ["That is not your current password."]})
    _set_password(user, new_password, "new_password")


def update_profile(user: User, *, bio: str, timezone: str) -> None:
    from zoneinfo import available_timezones

    errors = {}
    if len(bio or "") > BIO_MAX:
        errors["bio"] = [f"Keep it under {BIO_MAX} characters."]
    if timezone not in available_timezones() and timezone != "UTC":
        errors["timezone"] = ["Choose a time zone from the list."]
    if errors:
        raise ValidationFailed(fields=errors)
    user.bio = bio or ""
    user.timezone = timezone


def get_by_username(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username_key == username_key(username)))
    if user is None:
        raise NotFound("No such member.")
    return user


def set_role(user: User, role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed(fields={"role": [f"Choose one of {', '.join(ROLES)}."]})
    user.role = role


TIERS = ("registered", "shopper", "vip")


def set_tier(user: User, tier: str) -> None:
    """Store the member's tier (members decides it; see forum.members.service.tiers)."""
    if tier not in TIERS:
        raise ValidationFailed(fields={"tier": [f"Choose one of {', '.join(TIERS)}."]})
    user.tier = tier


# --- API tokens -----------------------------------------------------------------


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def default_scopes(user: User) -> tuple[str, ...]:
    """Everything the user's role allows: read and write, and merchant for merchants."""
    return tuple(
        scope for scope in TOKEN_SCOPES if scope != "merchant" or user.has_role("merchant")
    )


def _check_scopes(user: User, scopes) -> tuple[str, ...]:
    if scopes is None:
        return default_scopes(user)
    wanted = tuple(dict.fromkeys(scopes))
    unknown = [scope for scope in wanted if scope not in TOKEN_SCOPES]
    if unknown or not wanted:
        raise ValidationFailed(
            fields={"scopes": [f"Choose one or more of {', '.join(TOKEN_SCOPES)}."]}
        )
    if "merchant" in wanted and not user.has_role("merchant"):
        raise ValidationFailed(fields={"scopes": ["Only merchants can have the merchant scope."]})
    return tuple(scope for scope in TOKEN_SCOPES if scope in wanted)


def create_token(
    user: User, name: str = "api", scopes=None, *, within: ApiToken | None = None
) -> tuple[ApiToken, str]:
    """Create a token; return it and its secret (shown once: only the digest is stored).

    ``scopes`` defaults to everything the role allows. A token made by a request that
    was itself authenticated by a token (``within``) gets no scope that one lacks.
    """
    name = (name or "").strip()
    if not 1 <= len(name) <= 64:
        raise ValidationFailed(fields={"name": ["Give the token a name of 1-64 characters."]})
    if within is not None and scopes is None:
        scopes = within.scope_list
    granted = _check_scopes(user, scopes)
    if within is not None and not set(granted) <= set(within.scope_list):
        raise Forbidden(
            "A token cannot make a token with more scopes than its own.",
            code="insufficient_scope",
        )
    secret = "plz_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        token_hash=_token_digest(secret),
        prefix=secret[:8],
        name=name,
        scopes=" ".join(granted),
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def issue_token(user: User, name: str = "api", scopes=None) -> str:
    """Create a token and return its secret; only the digest is stored."""
    return create_token(user, name[:64] or "api", scopes)[1]


def list_tokens(user: User) -> list[ApiToken]:
    """The user's live tokens, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id.desc())
        )
    )


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens (NotFound for anyone else's or an unknown id)."""
    token = db.session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound("No such token.")
    token.revoked_at = now()
    return token


def revoke_all_tokens(user: User) -> None:
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now())
    )


@functools.cache
def _token_statements():
    """The token read and its touch, built once (every API request runs them): bind
    parameters ``digest``, and ``token_id`` / ``at``."""
    read = (
        select(ApiToken)
        .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.user))  # every API request needs both: one statement
    )
    table = ApiToken.__table__  # a plain UPDATE of the table: no ORM bulk-update machinery
    touch = (
        update(table)
        .where(table.c.id == bindparam("token_id"))
        .values(last_used_at=bindparam("at"))
    )
    return read, touch


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token with this secret (its user not suspended); notes when it was used
    (in the request's transaction: a refused request, rolled back, leaves no note)."""
    if not isinstance(secret, str) or not secret or len(secret) > 200:
        return None
    read, touch = _token_statements()
    token = db.session.scalar(read, {"digest": _token_digest(secret)})
    if token is None or token.user.is_suspended:
        return None
    at = now()
    if token.last_used_at is None or at - token.last_used_at >= TOKEN_TOUCH_EVERY:
        # One UPDATE a minute at most per token, whatever the request rate: sent now, one
        # plain statement (not an ORM flush at the request's next query).
        db.session.execute(touch, {"token_id": token.id, "at": at})
        set_committed_value(token, "last_used_at", at)
    return token


def user_for_token(secret: str) -> User | None:
    token = token_for_secret(secret)
    return token.user if token is not None else None


def require_scope(token: ApiToken | None, scope: str) -> None:
    """Raise Forbidden unless the request is not token-authenticated or ``token`` has ``scope``."""
    if token is not None and scope not in token.scope_list:
        raise Forbidden(f"This token lacks the {scope} scope.", code="insufficient_scope")


# --- account email (the campaigns package sends the links and calls these) ----------


def normalise_email(email) -> str | None:
    """The stored form of ``email``, or None when it is not an address."""
    if not isinstance(email, str) or len(email) > 254:
        return None
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def find_by_email(email) -> User | None:
    address = normalise_email(email)
    if address is None:
        return None
    return db.session.scalar(select(User).where(User.email == address))


def reset_password(user: User, new_password: str) -> None:
    """Set a new password without the old one (a verified reset link): every session
    and API token of the account ends. Raises ValidationFailed for a weak password."""
    _set_password(user, new_password, "password")


def check_new_email(user: User, email) -> str:
    """The normalised new address, or ValidationFailed / Conflict ``email_taken``."""
    address = normalise_email(email)
    if address is None:
        raise ValidationFailed(fields={"email": ["Enter a valid email address."]})
    if address == user.email:
        raise ValidationFailed(fields={"email": ["That is already your address."]})
    if db.session.scalar(select(User.id).where(User.email == address)):
        raise Conflict(
            "An account with that email exists.",
            code="email_taken",
            fields={"email": ["An account with that email exists."]},
        )
    return address


def change_email(user: User, email: str) -> str:
    """Move the account to ``email`` (confirmed by a link sent to it); the old address."""
    address = check_new_email(user, email)
    old = user.email
    try:
        with db.session.begin_nested():
            user.email = address
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict("An account with that email exists.", code="email_taken") from exc
    return old


def members_sql() -> Select:
    """``SELECT user_id, username, created_at`` of every account, to join as a subquery
    (insight's registrations, cohorts and contributors) without naming the table."""
    return select(
        User.id.label("user_id"),
        User.username.label("username"),
        User.created_at.label("created_at"),
    )


# --- avatars -----------------------------------------------------------------------


def avatar_url(user: User) -> str | None:
    """Where ``user``'s avatar is served, None when they have none (initials are shown)."""
    if not user.avatar_name:
        return None
    return f"/avatars/{user.avatar_name}"  # views.avatar; a constant so rendering needs no request


def read_avatar(stream) -> bytes:
    return AVATARS.read_limited(stream)


def set_avatar(user: User, data: bytes) -> str:
    """Check, re-encode and keep ``data`` as ``user``'s square avatar; returns its URL.

    Goes through the one upload pipeline (``ValidationFailed`` on field ``avatar`` for a
    file that is not an image, too large or too many pixels; nothing is kept then),
    rate limited as image uploads are. The previous picture is deleted once the
    change is committed, so a rolled-back change never leaves a member without one.
    """
    check_member(user)
    ratelimit.consume(
        current_app.config["ATTACHMENT_LIMIT"],
        "avatar",
        user.id,
        message="You are uploading images too fast; wait a while.",
    )
    old = user.avatar_name
    user.avatar_name = AVATARS.store(data)
    db.session.flush()
    if old:
        realtime.after_commit(AVATARS.remove, old)
    return avatar_url(user) or ""


def remove_avatar(user: User) -> None:
    """Back to initials; the stored picture goes once the change is committed."""
    check_member(user)
    old = user.avatar_name
    user.avatar_name = None
    db.session.flush()
    if old:
        realtime.after_commit(AVATARS.remove, old)


def send_avatar(name: str):
    """The stored avatar; NotFound for a name no member has (a removed one included)."""
    if not AVATARS.is_valid_name(name) or not db.session.scalar(
        select(User.id).where(User.avatar_name == name)
    ):
        raise NotFound("No such avatar.")
    return AVATARS.send(name)
