"""Account rules: registration, authentication, sessions, roles, API tokens."""

import hashlib
import re
import secrets

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .. import ratelimit, realtime
from ..clock import now
from ..errors import Conflict, NotAuthenticated, NotFound, RateLimited, ValidationFailed
from ..extensions import db
from .models import ROLES, ApiToken, User

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,30}[A-Za-z0-9]$")
PASSWORD_MIN = 8
PASSWORD_MAX = 256
BIO_MAX = 1000
ACCOUNT_LIMIT_SCOPE = "login-account"
BAD_CREDENTIALS = "Wrong username or password."


def username_key(username: str) -> str:
    return username.strip().casefold()


def _hash_password(password: str) -> str:
    return generate_password_hash(
        password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    )


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
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        errors["password"] = [f"Use at least {PASSWORD_MIN} characters."]
    elif len(password) > PASSWORD_MAX:
        errors["password"] = [f"Use at most {PASSWORD_MAX} characters."]
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


def register(username: str, email: str, password: str, *, role: str = "member") -> User:
    """Create a member. Raises ValidationFailed or Conflict (username_taken/email_taken)."""
    if role not in ROLES:
        raise ValidationFailed(fields={"role": [f"Choose one of {', '.join(ROLES)}."]})
    username, email = check_registration(username, email, password)
    user = User(
        username=username,
        username_key=username_key(username),
        email=email,
        password_hash=_hash_password(password),
        role=role,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as exc:  # a concurrent registration won the unique constraint
        raise Conflict("That username or email is taken.", code="username_taken") from exc
    from ..members import service as members

    members.on_registered(user)
    from ..attribution import service as attribution

    attribution.on_registered(user)
    return user


def authenticate(username: str, password: str) -> User:
    """Return the user for these credentials.

    Failed attempts are limited per account (``LOGIN_LIMIT_PER_ACCOUNT``); unknown
    usernames are counted and answered exactly like wrong passwords, so the answer
    never reveals whether an account exists.
    """
    key = username_key(username or "")[:64]
    spec = current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]
    if not ratelimit.allowed(spec, ACCOUNT_LIMIT_SCOPE, key):
        raise RateLimited("Too many failed attempts; wait a minute and try again.")
    user = db.session.scalar(select(User).where(User.username_key == key)) if key else None
    if (
        user is None
        or not isinstance(password, str)
        or not check_password_hash(user.password_hash, password)
    ):
        ratelimit.record(spec, ACCOUNT_LIMIT_SCOPE, key)
        raise NotAuthenticated(BAD_CREDENTIALS, code="bad_credentials")
    if user.is_suspended:
        raise NotAuthenticated("This account is suspended.", code="suspended")
    return user


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: ``"<id>:<session_version>"``; an older version is logged out."""
    user_id, _, version = (session_id or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
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


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password or ""):
        raise ValidationFailed(fields={"current_password": ["That is not your current password."]})
    if not isinstance(new_password, str) or not (PASSWORD_MIN <= len(new_password) <= PASSWORD_MAX):
        raise ValidationFailed(
            fields={"new_password": [f"Use {PASSWORD_MIN}-{PASSWORD_MAX} characters."]}
        )
    user.password_hash = _hash_password(new_password)
    for token in user.tokens:
        token.revoked_at = token.revoked_at or now()
    end_all_sessions(user)


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


# --- API tokens -----------------------------------------------------------------


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, name: str = "api") -> str:
    """Create a token and return its secret; only the digest is stored."""
    secret = "plz_" + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(user=user, token_hash=_token_digest(secret), prefix=secret[:8], name=name[:64])
    )
    return secret


def user_for_token(secret: str) -> User | None:
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_digest(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or token.user.is_suspended:
        return None
    return token.user
