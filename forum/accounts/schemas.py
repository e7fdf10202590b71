from pydantic import Field

from ..schemas import Body, attrs


class RegisterBody(Body):
    username: str = Field(max_length=64)
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class TokenBody(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    name: str | None = Field(default=None, max_length=64)
    scopes: list[str] | None = Field(default=None, max_length=3)


class NewTokenBody(Body):
    name: str = Field(max_length=64)
    scopes: list[str] | None = Field(default=None, max_length=3)


def dump_token(token) -> dict:
    return {
        **attrs(token, "id", "name", "prefix"),
        "scopes": token.scope_list,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }


def dump_user_ref(user) -> dict:
    return {"id": user.id, "username": user.username, "trust_level": user.trust_level or 0}


def dump_user(user) -> dict:
    return {
        **attrs(user, "id", "username", "roles"),
        "trust_level": user.trust_level or 0,
        "created_at": user.created_at.isoformat(),
    }
