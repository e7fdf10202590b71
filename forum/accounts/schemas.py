from pydantic import Field

from ..schemas import Body


class RegisterBody(Body):
    username: str = Field(max_length=64)
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class TokenBody(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


def dump_user_ref(user) -> dict:
    return {"id": user.id, "username": user.username}


def dump_user(user) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "roles": user.roles,
        "created_at": user.created_at.isoformat(),
    }
