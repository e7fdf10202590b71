"""Coupon pages: the admin's site-wide coupons, a merchant's own, and one coupon's usage.

Thin: parse the form, call the service, commit or roll back, render. A merchant sees
only their own shop's coupons; anyone else asking for one gets 404 (the service's rule).
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields import SelectChoice

from ...extensions import db
from ...permissions import acting_user
from ...web import form_status, run_form
from . import service
from .forms import AUDIENCE_LABELS, CouponForm, ToggleForm

bp = Blueprint("coupons", __name__)


@bp.route("/admin/coupons", methods=["GET", "POST"])
@login_required
def admin_coupons():
    if not current_user.is_admin:
        abort(403)
    return _manage("site", currency=None)


@bp.route("/shop/merchant/coupons", methods=["GET", "POST"])
@login_required
def merchant_coupons():
    if not current_user.has_role("merchant"):
        abort(403)
    shop = service.shop_of(acting_user())
    if shop is None:
        flash("Set up your shop first.", "info")
        return redirect(url_for("shop_embed.merchant_profile"))
    return _manage("shop", currency=shop.currency)


def _manage(scope: str, *, currency: str | None):
    form = CouponForm()
    if currency is not None:  # a shop coupon is in the shop's currency
        form.currency.choices = [SelectChoice(currency, currency)]
        if not form.is_submitted():
            form.currency.data = currency
    if scope == "site":
        form.segment_id.choices = [SelectChoice("", "Any member")] + [
            SelectChoice(i, f"{name} (#{i})") for i, name in service.segment_names().items()
        ]
    else:
        del form.segment_id
    form.money_currency = form.currency.data or currency or "USD"
    done = run_form(
        form, lambda: service.create_coupon(acting_user(), scope=scope, **form.values())
    )
    if done:
        flash(f"Coupon {done.value.code} created.", "success")
        return redirect(url_for("coupons.coupon", code=done.value.code))
    page = service.list_coupons(acting_user(), scope=scope, cursor=request.args.get("cursor"))
    return render_template(
        "members/coupons/manage.html",
        scope=scope,
        form=form,
        page=page,
        figures={c.id: service.usage(c) for c in page.items},
        audiences=AUDIENCE_LABELS,
    ), form_status(form) if form.errors else 200


@bp.get("/coupons/<code>")
@login_required
def coupon(code: str):
    item = service.get_coupon(acting_user(), code)
    return render_template(
        "members/coupons/coupon.html",
        coupon=item,
        figures=service.usage(item),
        redemptions=service.recent_redemptions(item),
        audiences=AUDIENCE_LABELS,
        toggle=ToggleForm(),
    )


@bp.post("/coupons/<code>/active")
@login_required
def toggle(code: str):
    item = service.get_coupon(acting_user(), code)
    if not ToggleForm().validate_on_submit():
        abort(400)
    service.set_active(acting_user(), item.code, not item.active)
    db.session.commit()
    flash(f"Coupon {item.code} {'brought back' if item.active else 'withdrawn'}.", "success")
    return redirect(url_for("coupons.coupon", code=item.code))
