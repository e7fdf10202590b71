from flask import g, request
from flask_login import current_user

from ..accounts import service
from ..accounts.schemas import NewTokenBody, RegisterBody, TokenBody, dump_token, dump_user
from ..campaigns import service as campaigns
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
    campaigns.on_registered(user)  # the verification email, sent after commit
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
    user = service.authenticate(data.username, data.password, address=request.remote_addr)
    return {"token": service.issue_token(user, data.name or "api", data.scopes)}


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


def _caller_token():
    return g.get("api_token")


@endpoint(
    bp,
    "/auth/tokens",
    "GET",
    summary="Your live API tokens",
    tag="accounts",
    response=responses.ApiTokenPage,
)
def list_tokens():
    user = current_user._get_current_object()
    return {"items": [dump_token(t) for t in service.list_tokens(user)], "next_cursor": None}


@endpoint(
    bp,
    "/auth/tokens",
    "POST",
    summary="Create a named token with scopes (read, write, merchant)",
    body=NewTokenBody,
    status=201,
    errors=(403, 422),
    tag="accounts",
    response=responses.NewApiToken,
)
def create_token(data: NewTokenBody):
    user = current_user._get_current_object()
    token, secret = service.create_token(user, data.name, data.scopes, within=_caller_token())
    return {**dump_token(token), "token": secret}


@endpoint(
    bp,
    "/auth/tokens/<int:token_id>",
    "DELETE",
    summary="Revoke one of your tokens",
    status=204,
    errors=(404,),
    tag="accounts",
)
def revoke_token(token_id: int):
    service.revoke_token(current_user._get_current_object(), token_id)
