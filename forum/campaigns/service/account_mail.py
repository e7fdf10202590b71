"""Account email: verification at sign-up, password reset, email change.

Tokens are signed (itsdangerous, ``SECRET_KEY`` and a salt per purpose, with their
age) *and* backed by an ``AccountToken`` row holding the digest of a random nonce:
the signature refuses forgeries, the age and ``expires_at`` expire it, and the
row's ``used_at`` (claimed by one conditional UPDATE) makes it single-use. A reset
request answers the same whether or not the address has an account, and the mail
is queued after commit, so neither the answer nor its timing tells.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select

from ... import realtime, signals
from ...accounts import service as accounts
from ...accounts.models import User
from ...clock import now
from ...database import update_where
from ...errors import ServiceError, ValidationFailed
from ...extensions import db
from ..models import AccountToken
from .contacts import contact

LIFETIME_SETTINGS = {
    "verify_email": "EMAIL_VERIFY_HOURS",
    "reset_password": "PASSWORD_RESET_HOURS",
    "change_email": "EMAIL_CHANGE_HOURS",
}


class InvalidToken(ServiceError):
    status = 400
    code = "invalid_token"
    message = "This link is not valid: it has expired, was already used, or was never ours."


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"plaza.account.{purpose}")


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _hours(purpose: str) -> float:
    return float(current_app.config[LIFETIME_SETTINGS[purpose]])


def issue_token(user: User, purpose: str, email: str) -> str:
    nonce = secrets.token_urlsafe(24)
    row = AccountToken(
        user_id=user.id,
        purpose=purpose,
        digest=_digest(nonce),
        email=email,
        expires_at=now() + timedelta(hours=_hours(purpose)),
    )
    db.session.add(row)
    db.session.flush()
    return _serializer(purpose).dumps([row.id, nonce])


def _read(token, purpose: str) -> AccountToken:
    if not isinstance(token, str) or not 0 < len(token) <= 500:
        raise InvalidToken()
    try:
        row_id, nonce = _serializer(purpose).loads(token, max_age=int(_hours(purpose) * 3600) + 60)
    except (BadData, ValueError, TypeError, UnicodeError):
        raise InvalidToken() from None
    if not isinstance(row_id, int) or not isinstance(nonce, str):
        raise InvalidToken()
    row = db.session.get(AccountToken, row_id)
    if (
        row is None
        or row.purpose != purpose
        or row.used_at is not None
        or row.expires_at <= now()
        or not hmac.compare_digest(row.digest, _digest(nonce))
    ):
        raise InvalidToken()
    return row


def peek(token, purpose: str) -> AccountToken:
    """The live token row (for a form showing who it is for); InvalidToken otherwise."""
    return _read(token, purpose)


def _claim(row: AccountToken) -> None:
    claimed = update_where(
        AccountToken, AccountToken.id == row.id, AccountToken.used_at.is_(None), used_at=now()
    )
    if claimed != 1:
        raise InvalidToken()


def queue_mail(to: str, subject: str, text: str) -> None:
    """A transactional message, sent by a task once this transaction commits."""
    from ..tasks import send_account_mail

    realtime.after_commit(send_account_mail.delay, to, subject, text)


def _link(endpoint: str, token: str) -> str:
    return url_for(endpoint, token=token, _external=True)


# --- verification -----------------------------------------------------------------


def send_verification(user: User) -> None:
    token = issue_token(user, "verify_email", user.email)
    queue_mail(
        user.email,
        "Confirm your email address",
        f"Hi {user.username},\n\nPlease confirm this address for your Plaza account:\n\n"
        f"{_link('campaigns.verify_email', token)}\n\n"
        f"The link works once and expires in {_hours('verify_email'):g} hours. Your account "
        "works meanwhile; offers by email and some rewards wait for the confirmation.\n",
    )


def on_registered(user: User) -> None:
    """Called by the sign-up entry points (page and API) after ``accounts.register``: the
    member's contact row and the verification mail. (Accounts made by the CLI, the demo
    or tests get none.)"""
    contact(user.id)
    send_verification(user)


def _verification(token: str) -> tuple[User, AccountToken]:
    row = _read(token, "verify_email")
    user = db.session.get(User, row.user_id)
    if user is None or user.email != row.email:
        raise InvalidToken()  # the address changed since the link was sent
    return user, row


def check_verification(token: str) -> tuple[User, str]:
    """The member and address a confirmation link is for (reads only: the link's page
    asks for a click, so a mail scanner fetching it confirms nothing). InvalidToken."""
    user, row = _verification(token)
    return user, row.email


def verify_email(token: str) -> User:
    user, row = _verification(token)
    _claim(row)
    settings = contact(user.id)
    if settings.email_verified_at is None:
        settings.email_verified_at = now()
        signals.email_verified.send(user)
    return user


def is_verified(user_id: int) -> bool:
    from ..models import ContactSettings

    return (
        db.session.scalar(
            select(ContactSettings.email_verified_at).where(ContactSettings.user_id == user_id)
        )
        is not None
    )


# --- password reset ---------------------------------------------------------------


def request_password_reset(email) -> None:
    """Queue a reset link when ``email`` has an account; otherwise nothing. Either way
    the caller answers the same."""
    user = accounts.find_by_email(email)
    if user is None or user.is_suspended:
        return
    token = issue_token(user, "reset_password", user.email)
    queue_mail(
        user.email,
        "Reset your Plaza password",
        f"Hi {user.username},\n\nSomeone (hopefully you) asked to reset your password. "
        f"Choose a new one here:\n\n{_link('campaigns.reset_password', token)}\n\n"
        f"The link works once and expires in {_hours('reset_password'):g} hour(s). If you did "
        "not ask, ignore this message; your password stays as it is.\n",
    )


def confirm_password_reset(token, password) -> User:
    """Set the new password; InvalidToken (400) or ValidationFailed (weak password).
    Every session and API token of the account ends, and older reset links die."""
    row = _read(token, "reset_password")
    user = db.session.get(User, row.user_id)
    if user is None or user.email != row.email:
        raise InvalidToken()
    accounts.reset_password(user, password if isinstance(password, str) else "")
    _claim(row)
    update_where(
        AccountToken,
        AccountToken.user_id == user.id,
        AccountToken.purpose == "reset_password",
        AccountToken.used_at.is_(None),
        used_at=now(),
    )
    queue_mail(
        user.email,
        "Your Plaza password was changed",
        f"Hi {user.username},\n\nYour password was just reset and every device was logged "
        "out. If this was not you, reset it again at once and tell a moderator.\n",
    )
    return user


# --- email change -----------------------------------------------------------------


def request_email_change(user: User, new_email) -> str:
    """Send a confirmation link to the new address and a notice to the current one;
    nothing changes until the link is followed. Returns the normalised new address."""
    address = accounts.check_new_email(user, new_email)
    token = issue_token(user, "change_email", address)
    queue_mail(
        address,
        "Confirm your new Plaza email address",
        f"Hi {user.username},\n\nConfirm that this is your new address for Plaza:\n\n"
        f"{_link('campaigns.confirm_email_change', token)}\n\n"
        f"The link works once and expires in {_hours('change_email'):g} hours.\n",
    )
    queue_mail(
        user.email,
        "Your Plaza email address is about to change",
        f"Hi {user.username},\n\nSomeone asked to move your account to {address}. It changes "
        "only when the link sent there is followed. If this was not you, change your "
        "password now.\n",
    )
    return address


def check_email_change(token) -> tuple[User, str]:
    """The member and the new address an email-change link is for (reads only, as
    ``check_verification``). InvalidToken."""
    row = _read(token, "change_email")
    user = db.session.get(User, row.user_id)
    if user is None:
        raise InvalidToken()
    return user, row.email


def confirm_email_change(token) -> User:
    row = _read(token, "change_email")
    user = db.session.get(User, row.user_id)
    if user is None:
        raise InvalidToken()
    try:
        old = accounts.change_email(user, row.email)
    except ValidationFailed:
        raise InvalidToken() from None
    _claim(row)
    settings = contact(user.id)
    settings.email_verified_at = now()  # following the link proved the new address
    for address in (old, user.email):
        queue_mail(
            address,
            "Your Plaza email address was changed",
            f"Hi {user.username},\n\nThe account's address moved from {old} to {user.email}. "
            "If this was not you, contact a moderator at once.\n",
        )
    return user
