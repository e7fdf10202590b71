from flask_login import current_user

from ..accounts import service
from ..accounts.schemas import RegisterBody, TokenBody, dump_user
from ..members import service as members
from . import bp, responses
from .core import endpoint


@endpoint(
    bp,
    "/auth/register",
    "POST",
    summary="Register and get a token",
    auth="anyone",
    body=RegisterBody,
    status=201,
    errors=(409, 422),
    tag="accounts",
    limits=("LOGIN_LIMIT_PER_IP",),
    response=responses.Registered,
)
def register(data: RegisterBody):
    user = service.register(data.username, data.email, data.password)
    token = service.issue_token(user, "register")
    return {"user": dump_user(user), "token": token}


@endpoint(
    bp,
    "/auth/token",
    "POST",
    summary="Exchange username and password for a token",
    auth="anyone",
    body=TokenBody,
    errors=(401, 422),
    tag="accounts",
    limits=("LOGIN_LIMIT_PER_IP",),
    response=responses.Token,
)
def token(data: TokenBody):
    user = service.authenticate(data.username, data.password)
    return {"token": service.issue_token(user, "api")}


@endpoint(
    bp,
    "/me",
    "GET",
    summary="The caller's account, tier and balances",
    tag="accounts",
    response=responses.Me,
)
def me():
    user = current_user._get_current_object()
    return {**dump_user(user), **members.summary(user)}
