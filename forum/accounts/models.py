from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..database import PrimaryKey, StampedNow
from ..extensions import db

ROLES = ("member", "moderator", "merchant", "admin")
TIERS = ("registered", "shopper", "vip")
# What an API token may do: read (GET), write (anything else), merchant (merchant endpoints).
TOKEN_SCOPES = ("read", "write", "merchant")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[PrimaryKey]
    username: Mapped[str] = mapped_column(String(32))
    # Case-insensitive uniqueness: the casefolded form carries the unique constraint.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="member")
    tier: Mapped[str] = mapped_column(String(16), default="registered")
    # 0-4, written only by forum.trust (its rules table and staff grants); read everywhere.
    trust_level: Mapped[int] = mapped_column(default=0, server_default="0")
    bio: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The stored name of the member's square avatar (accounts.avatars), None for initials.
    avatar_name: Mapped[str | None] = mapped_column(String(40))
    post_count: Mapped[int] = mapped_column(default=0)
    # Bumped by logout-everywhere and password change: every session and remember
    # cookie carrying an older version stops loading the user.
    session_version: Mapped[int] = mapped_column(default=1)
    suspended_until: Mapped[datetime | None]
    # Written by moderation (through accounts' service): the reason the member is shown.
    suspension_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Silenced: may read and log in, may not post or chat, until this time.
    silenced_until: Mapped[datetime | None]
    silence_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # When the member accepted the community guidelines (at sign-up).
    guidelines_accepted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)

    tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def roles(self) -> list[str]:
        granted = ["member"]
        if self.role == "admin":
            granted += ["moderator", "admin"]
        elif self.role in ("moderator", "merchant"):
            granted.append(self.role)
        return granted

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_moderator(self) -> bool:
        return self.has_role("moderator")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_suspended(self) -> bool:
        return self.suspended_until is not None and self.suspended_until > now()

    @property
    def is_silenced(self) -> bool:
        return self.silenced_until is not None and self.silenced_until > now()

    @property
    def initials(self) -> str:
        parts = [p for p in self.username.replace("_", " ").replace("-", " ").split() if p]
        letters = "".join(p[0] for p in parts[:2]) if len(parts) > 1 else self.username[:2]
        return letters.upper()

    @property
    def avatar_hue(self) -> int:
        return (self.id * 7) % 12  # one of twelve palette classes (CSP forbids inline style)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64), default="api")
    scopes: Mapped[str] = mapped_column(String(64), default="read write")  # space-separated
    created_at: Mapped[StampedNow]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
