from flask import g, request
from flask_login import current_user

from ..accounts import service
from ..accounts.schemas import NewTokenBody, RegisterBody, TokenBody, dump_token, dump_user
from ..campaigns import service as campaigns
from ..errors import ValidationFailed
from ..members import service as members
from . import bp, responses
from .core import endpoints

endpoint = endpoints(bp, tag="accounts")


@endpoint(
    "/auth/register",
    "POST",
    auth="anyone",
    body=RegisterBody,
    status=201,
    errors=(409,),
    limits=("LOGIN_LIMIT_PER_IP",),
    response=responses.Registered,
)
def register(data: RegisterBody):
    """Register and get a token"""
    user = service.register(data.username, data.email, data.password)
    campaigns.on_registered(user)  # the verification email, sent after commit
    token = service.issue_token(user, "register")
    return {"user": dump_user(user), "token": token}


@endpoint(
    "/auth/token",
    "POST",
    auth="anyone",
    body=TokenBody,
    errors=(401,),
    limits=("LOGIN_LIMIT_PER_IP",),
    response=responses.Token,
)
def token(data: TokenBody):
    """Exchange username and password for a token"""
    user = service.authenticate(data.username, data.password, address=request.remote_addr)
    return {"token": service.issue_token(user, data.name or "api", data.scopes)}


@endpoint("/me", "GET", response=responses.Me)
def me():
    """The caller's account, tier and balances"""
    user = current_user._get_current_object()
    return {**dump_user(user), **members.summary(user)}


def _caller_token():
    return g.get("api_token")


@endpoint("/auth/tokens", "GET", response=responses.ApiTokenPage)
def list_tokens():
    """Your live API tokens"""
    user = current_user._get_current_object()
    return {"items": [dump_token(t) for t in service.list_tokens(user)], "next_cursor": None}


@endpoint("/auth/tokens", "POST", body=NewTokenBody, status=201, response=responses.NewApiToken)
def create_token(data: NewTokenBody):
    """Create a named token with scopes (read, write, merchant)"""
    user = current_user._get_current_object()
    token, secret = service.create_token(user, data.name, data.scopes, within=_caller_token())
    return {**dump_token(token), "token": secret}


@endpoint("/auth/tokens/<int:token_id>", "DELETE")
def revoke_token(token_id: int):
    """Revoke one of your tokens"""
    service.revoke_token(current_user._get_current_object(), token_id)


@endpoint("/me/avatar", "POST", status=201, errors=(413, 422, 429), response=responses.Avatar)
def upload_my_avatar():
    """Upload your avatar (multipart field `avatar`: JPEG, PNG, WebP or GIF); it is re-encoded and
    cut to a centred square"""
    upload = request.files.get("avatar")
    if upload is None:
        raise ValidationFailed(
            "Attach the picture as the multipart field `avatar`.",
            fields={"avatar": ["Required."]},
        )
    url = service.set_avatar(current_user._get_current_object(), service.read_avatar(upload.stream))
    return {"avatar_url": url}


@endpoint("/me/avatar", "DELETE")
def remove_my_avatar():
    """Remove your avatar (your initials are shown again)"""
    service.remove_avatar(current_user._get_current_object())
