"""Coupon endpoints (shared/API.md, Members): create, read with uses, list, withdraw.

A coupon is used through ``coupon_code`` on POST /orders, /checkout and /checkout/quote
(forum/api/shop.py).
"""

from flask import request

from ..members.coupons import service
from ..members.coupons.schemas import CouponBody, CouponOut, CouponPageOut, CouponPatch, dump_coupon
from ..permissions import acting_user as _user
from . import bp
from .core import PAGE, endpoints, page_args

endpoint = endpoints(bp, tag="members")


@endpoint("/coupons", "POST", body=CouponBody, status=201, errors=(409,), response=CouponOut)
def create_coupon(data: CouponBody):
    """Create a coupon: a merchant's for their shop, an admin's site-wide"""
    return dump_coupon(service.create_coupon(_user(), **data.model_dump()))


@endpoint(
    "/coupons",
    "GET",
    errors=(403,),
    query=(*PAGE, ("scope", {"type": "string", "enum": ["site", "shop"]})),
    response=CouponPageOut,
)
def list_coupons():
    """Coupons the caller manages, newest first (a merchant's own; an admin's site-wide)"""
    page = service.list_coupons(
        _user(),
        scope=request.args.get("scope") or None,
        **page_args(),
    )
    return page.dump(dump_coupon)


@endpoint("/coupons/<code>", "GET", response=CouponOut)
def get_coupon(code: str):
    """A coupon with its uses and uses left (its merchant, admin)"""
    return dump_coupon(service.get_coupon(_user(), code))


@endpoint("/coupons/<code>", "PATCH", body=CouponPatch, response=CouponOut)
def update_coupon(code: str, data: CouponPatch):
    """Withdraw a coupon or bring it back (`active`); claimed uses stand"""
    return dump_coupon(service.set_active(_user(), code, data.active))
