"""Shop pages: storefronts, product pages, the cart, checkout, orders and the merchant area.

Thin: parse the form, call the service, commit or roll back, render. The cart is a
small dict in the (signed) session: ``{"merchant_id", "items": {product_id: qty}}``.
"""

import secrets

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from wtforms.fields import SelectChoice

from .. import signals
from ..errors import NotFound, ServiceError
from ..extensions import db
from ..pagination import limit_from
from ..permissions import acting_user as _user
from ..web import brought_coupon, drop_brought_coupon, form_status, form_values, run_form
from . import payments, service
from .forms import (
    AddressForm,
    CartLineForm,
    CheckoutForm,
    MerchantForm,
    PayForm,
    ProductForm,
    QuantityForm,
    ShipForm,
)
from .images import IMAGES
from .models import ORDER_STATUSES, Product

bp = Blueprint("shop_embed", __name__, url_prefix="/shop")
# Every template shows stock through the one rule (in stock / low / sold out).
bp.add_app_template_global(service.stock_state, "stock_state")

CART_KEY = "shop_cart"
# Service field names -> form field names where they differ.
FORM_FIELDS = {
    "price_cents": "price",
    "shipping_fee_cents": "shipping_fee",
    "free_shipping_threshold_cents": "free_shipping_threshold",
    "use_credit_cents": "use_credit",
}


def _show_error(form, err: ServiceError) -> None:
    """Put a service refusal on the form's fields; messages for fields it lacks go on top."""
    placed = False
    for name, messages in err.fields.items():
        short = name.removeprefix("shipping_address.")
        field = getattr(form, FORM_FIELDS.get(short, short), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
            placed = True
        else:
            form.form_errors.extend(messages)
    if not placed and not form.form_errors:
        form.form_errors.append(err.message)
    elif not placed:
        form.form_errors.insert(0, err.message)


def _provider_choices(merchant):
    return [SelectChoice(p.name, p.label) for p in payments.available_providers(merchant)]


# --- browsing ----------------------------------------------------------------------


@bp.get("/")
def index():
    merchants = service.list_merchants()
    products = service.featured_products(12)
    stock = service.available_stock(p.id for p in products)
    return render_template(
        "shop_embed/index.html", merchants=merchants, products=products, stock=stock
    )


@bp.get("/m/<slug>")
def storefront(slug: str):
    merchant = service.get_merchant(slug)
    products = service.merchant_products(merchant, only_buyable=True)
    stock = service.available_stock(p.id for p in products)
    return render_template(
        "shop_embed/storefront.html", merchant=merchant, products=products, stock=stock
    )


@bp.get("/p/<int:product_id>")
def product(product_id: int):
    item = service.get_product(product_id, viewer=current_user)
    stock = service.available_stock([item.id]).get(item.id, 0)
    form = QuantityForm(product_id=item.id)
    owner = service.owns_product(current_user, item)
    return render_template(
        "shop_embed/product.html",
        product=item,
        stock=stock,
        shown=service.stock_state(stock, available=item.is_buyable),
        form=form,
        image=service.image_url(item),
        room=service.offer_room(item.id),
        owner=owner,
        # Sections other features add under the product (reviews, reports, threads).
        sections=[
            answer
            for _receiver, answer in signals.product_shown.send(item, viewer=current_user)
            if answer
        ],
    )


@bp.get("/images/<name>")
def image(name: str):
    return IMAGES.send(name)


# --- cart --------------------------------------------------------------------------


def _cart() -> dict:
    cart = session.get(CART_KEY)
    return cart if isinstance(cart, dict) else {}


@bp.post("/cart/add")
@login_required
def cart_add():
    form = QuantityForm()
    product_id = form.product_id.data
    item = (
        service.get_product(int(product_id), viewer=current_user)
        if str(product_id or "").isdigit()
        else None
    )
    if item is None:
        raise NotFound("No such product.")
    if not form.validate_on_submit():
        flash(f"Choose a quantity from 1 to {service.MAX_QUANTITY}.", "error")
        return redirect(url_for("shop_embed.product", product_id=item.id))
    quantity = form.quantity.data
    if "buy_now" in request.form:
        return redirect(url_for("shop_embed.checkout", product=item.id, quantity=quantity))
    try:
        session[CART_KEY] = service.cart_add(_cart(), item, quantity)
    except ServiceError as err:
        flash(err.message, "error")
        return redirect(url_for("shop_embed.product", product_id=item.id))
    flash(f"Added {quantity} × {item.name} to your cart.", "success")
    return redirect(url_for("shop_embed.cart"))


@bp.get("/cart")
@login_required
def cart():
    quote = service.cart_quote(_cart())
    return render_template("shop_embed/cart.html", quote=quote, line_form=CartLineForm())


@bp.post("/cart/update")
@login_required
def cart_update():
    form = CartLineForm()
    if form.validate_on_submit() and str(form.product_id.data or "").isdigit():
        session[CART_KEY] = service.cart_set(_cart(), int(form.product_id.data), form.quantity.data)
    else:
        flash(f"Choose a quantity from 0 to {service.MAX_QUANTITY}.", "error")
    return redirect(url_for("shop_embed.cart"))


@bp.post("/cart/clear")
@login_required
def cart_clear():
    session.pop(CART_KEY, None)
    return redirect(url_for("shop_embed.cart"))


# --- checkout ----------------------------------------------------------------------


def _checkout_lines() -> tuple[list[tuple[int, int]], bool]:
    """(lines, direct): ``?product=&quantity=`` is a one-product "buy now"; otherwise the cart."""
    product_id, quantity = request.args.get("product", ""), request.args.get("quantity", "1")
    if product_id:
        if not product_id.isdigit() or not quantity.isdigit():
            abort(404)
        return [(int(product_id), int(quantity))], True
    return service.cart_lines(_cart()), False


def _with_brought_coupon(form, lines, quote):
    """The checkout opened with a coupon the reader brought (a campaign link): the field
    starts with it and the total with its discount. A code its rules refuse for this
    buyer (expired, used up, someone else's offer) is not applied: the field stays
    empty, with the coupon's message, and the code is forgotten."""
    code = brought_coupon()
    if not code or form.coupon_code.data:
        return quote
    form.coupon_code.data = code
    try:
        return service.price_quote(_user(), lines, choices=form.choices())
    except ServiceError as err:
        _show_error(form, err)
        form.coupon_code.data = ""
        drop_brought_coupon()
        return quote


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
def checkout():
    lines, direct = _checkout_lines()
    if not lines:
        flash("Your cart is empty.", "info")
        return redirect(url_for("shop_embed.cart"))
    form = CheckoutForm()
    try:
        quote = service.price_quote(_user(), lines)
    except ServiceError as err:
        flash(err.message, "error")
        return redirect(url_for("shop_embed.cart") if not direct else url_for("shop_embed.index"))
    if form.is_submitted() and form.choices():
        try:  # the price with the coupon the buyer typed; a refusal shows on its field
            quote = service.price_quote(_user(), lines, choices=form.choices())
        except ServiceError as err:
            _show_error(form, err)
    form.provider.choices = _provider_choices(quote.merchant)
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_urlsafe(24)
        for name, value in service.saved_address(_user()).items():  # the last one, again
            if name in form:
                form[name].data = value
        if form.provider.choices:
            form.provider.data = form.provider.choices[0].value
        quote = _with_brought_coupon(form, lines, quote)
    elif form.is_submitted() and not (form.coupon_code.data or "").strip():
        drop_brought_coupon()  # the buyer removed the coupon the link brought
    status = 200
    form.money_currency = quote.currency
    if form.is_submitted() and (request.form.get("preview") or "apply_coupon" in request.form):
        # "Update total" / "Apply": the same quote with the coupon, credit and points
        # chosen; nothing is placed.
        form.use_credit.validate(form)
        form.use_points.validate(form)
        form.coupon_code.validate(form)
        try:
            quote = service.price_quote(_user(), lines, choices=form.choices())
        except ServiceError as err:
            _show_error(form, err)
        if form.coupon_code.errors or form.use_credit.errors or form.use_points.errors:
            status = 422
        return render_template(
            "shop_embed/checkout.html", form=form, quote=quote, direct=direct
        ), status
    if form.validate_on_submit():
        try:
            order = service.checkout(
                _user(),
                lines,
                address=form.address(),
                provider=form.provider.data,
                idempotency_key=form.idempotency_key.data,
                choices=form.choices(),
            )
        except ServiceError as err:
            db.session.rollback()
            _show_error(form, err)
            status = err.status
            try:
                quote = service.price_quote(_user(), lines, choices=form.choices())
            except ServiceError:
                quote = service.price_quote(_user(), lines)
        else:
            db.session.commit()
            drop_brought_coupon()
            if not direct:
                session.pop(CART_KEY, None)
            return redirect(url_for("shop_embed.order", order_id=order.id, placed=1))
    elif form.is_submitted():
        status = 422
    return render_template(
        "shop_embed/checkout.html", form=form, quote=quote, direct=direct
    ), status


# --- orders ------------------------------------------------------------------------


@bp.get("/orders")
@login_required
def my_orders():
    page = service.orders_of_buyer(_user(), cursor=request.args.get("cursor"), limit=20)
    return render_template("shop_embed/my_orders.html", page=page)


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    return _order_page(service.get_order(order_id, _user()))


def _order_page(item, *, address_form: AddressForm | None = None, status: int = 200):
    payment = service.order_payment(item)
    pay_form = PayForm()
    # An offline payment already announced: offer the other ways to pay instead.
    pay_form.provider.choices = [
        c
        for c in _provider_choices(item.merchant)
        if not (payment and payment.status == "awaiting" and c.value == payment.provider)
    ]
    if pay_form.provider.choices:
        pay_form.provider.data = pay_form.provider.choices[0].value
    steps = service.next_steps(_user(), item)
    if address_form is None and "address" in steps:
        # The order's own address to correct, else the one the buyer used last.
        known = item.shipping_address or service.saved_address(_user())
        address_form = AddressForm(formdata=None, data=known)
    return render_template(
        "shop_embed/order.html",
        order=item,
        events=service.order_events(item),
        payment=payment,
        steps=steps,
        placed=request.args.get("placed") == "1",
        pay_form=pay_form,
        ship_form=ShipForm(),
        address_form=address_form,
        as_merchant=service.is_order_merchant(_user(), item),
        overdue=service.is_overdue(item),
    ), status


def _show_address_error(form, err: ServiceError) -> None:
    if err.status in (403, 404):
        raise err  # not this reader's order to address: the error page says so
    _show_error(form, err)


@bp.post("/orders/<int:order_id>/address")
@login_required
def order_address(order_id: int):
    item = service.get_order(order_id, _user())
    service.check_order_buyer(_user(), item)  # before the form says anything
    form = AddressForm()
    saved = run_form(
        form,
        lambda: service.set_shipping_address(_user(), item, form.address()),
        show_error=_show_address_error,
    )
    if saved:
        flash("Address saved; the shop ships it there.", "success")
        return redirect(url_for("shop_embed.order", order_id=order_id))
    return _order_page(item, address_form=form, status=form_status(form))


ACTIONS = {
    "cancel": lambda user, order, form: service.cancel(user, order, reason=form.get("reason", "")),
    "mark-paid": lambda user, order, form: service.mark_paid(user, order),
    "ship": lambda user, order, form: service.ship(user, order, tracking=form.get("tracking", "")),
    "complete": lambda user, order, form: service.complete(user, order),
    "refund": lambda user, order, form: service.refund(user, order, reason=form.get("reason", "")),
    "pay": lambda user, order, form: service.pay(user, order, form.get("provider", "")),
}
DONE = {
    "cancel": "Order cancelled.",
    "mark-paid": "Marked as paid.",
    "ship": "Marked as shipped.",
    "complete": "Order completed.",
    "refund": "Order refunded; stock restored.",
    "pay": "Thanks!",
}


@bp.post("/orders/<int:order_id>/<action>")
@login_required
def order_action(order_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    item = service.get_order(order_id, _user())
    try:
        ACTIONS[action](_user(), item, request.form)
    except NotFound:
        raise
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        db.session.commit()
        message = DONE[action]
        if action == "pay":
            message = (
                "Payment received, thank you!"
                if item.status == "paid"
                else "We told the shop you will pay offline; they confirm when the money arrives."
            )
        flash(message, "success")
    target = request.form.get("next", "")
    if target == "merchant" and service.is_order_merchant(_user(), item):
        return redirect(url_for("shop_embed.merchant_orders"))
    return redirect(url_for("shop_embed.order", order_id=order_id))


# --- merchant area -----------------------------------------------------------------


def _merchant_or_403():
    if not service.is_merchant(current_user):
        abort(403)
    return service.merchant_of(current_user)


@bp.get("/merchant")
@login_required
def merchant_home():
    merchant = _merchant_or_403()
    if merchant is None:
        return redirect(url_for("shop_embed.merchant_profile"))
    products = service.merchant_products(merchant, include_archived=True)
    stock = service.available_stock(p.id for p in products)
    return render_template(
        "shop_embed/merchant_home.html", merchant=merchant, products=products, stock=stock
    )


@bp.route("/merchant/profile", methods=["GET", "POST"])
@login_required
def merchant_profile():
    merchant = _merchant_or_403()
    form = MerchantForm(obj=merchant)
    if request.method == "GET":
        if merchant is not None:
            form.shipping_fee.data = merchant.shipping_fee_cents
            form.free_shipping_threshold.data = merchant.free_shipping_threshold_cents
        else:
            name = current_user.username.replace("_", " ").title()
            form.name.data, form.slug.data = name, current_user.username.lower().replace("_", "-")
            form.logo_initials.data = service.initials(name)
            form.shipping_fee.data = 0
    saved = run_form(
        form,
        lambda: service.save_merchant_profile(
            _user(),
            **form_values(form, "name", "slug", "logo_initials", "currency"),
            tagline=form.tagline.data or "",
            shipping_fee_cents=form.shipping_fee.data,
            free_shipping_threshold_cents=form.free_shipping_threshold.data,
            offline_payments=bool(form.offline_payments.data),
        ),
        show_error=_show_error,
    )
    if saved:
        flash("Shop profile saved.", "success")
        return redirect(url_for("shop_embed.merchant_home"))
    return render_template(
        "shop_embed/merchant_profile.html", form=form, merchant=merchant
    ), form_status(form)


def _image_bytes(form) -> bytes | None:
    upload = form.image.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    return IMAGES.read_limited(upload.stream)


def _product_fields(form) -> dict:
    """The product form's fields as the service takes them, to create or to edit."""
    return {
        **form_values(form, "name", "stock"),
        "description": form.description.data or "",
        "price_cents": form.price.data,
        "active": bool(form.active.data),
    }


@bp.route("/merchant/products/new", methods=["GET", "POST"])
@login_required
def new_product():
    merchant = _merchant_or_403()
    if merchant is None:
        flash("Set up your shop profile first.", "info")
        return redirect(url_for("shop_embed.merchant_profile"))
    form = ProductForm()
    form.money_currency = merchant.currency
    done = run_form(
        form,
        lambda: service.create_product(
            _user(), **_product_fields(form), currency=merchant.currency, image=_image_bytes(form)
        ),
        show_error=_show_error,
    )
    if done:
        item = done.value
        flash(f"{item.name} is listed. Embed it anywhere with [[product:{item.id}]].", "success")
        return redirect(url_for("shop_embed.merchant_home"))
    return render_template(
        "shop_embed/product_form.html", form=form, merchant=merchant, product=None
    ), form_status(form)


def _merchant_product(product_id: int) -> Product:
    """A product for the merchant pages (a merchant's session, the product exists);
    the service checks it is theirs."""
    _merchant_or_403()
    item = db.session.get(Product, product_id)
    if item is None:
        abort(404)
    return item


@bp.route("/merchant/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit_product(product_id: int):
    item = _merchant_product(product_id)
    service.check_owner(_user(), item)
    shown = service.available_stock([item.id]).get(item.id, 0)
    form = ProductForm(obj=item)
    form.money_currency = item.currency
    if request.method == "GET":
        form.price.data, form.stock.data = item.price_cents, shown

    def save():
        service.update_product(
            _user(), item, stock_seen=request.form.get("stock_seen"), **_product_fields(form)
        )
        data = _image_bytes(form)
        if data is not None:
            service.set_product_image(_user(), item, data)

    if run_form(form, save, show_error=_show_error):
        flash("Product saved.", "success")
        return redirect(url_for("shop_embed.merchant_home"))
    return render_template(
        "shop_embed/product_form.html",
        form=form,
        merchant=item.merchant,
        product=item,
        stock_seen=shown,
    ), form_status(form)


@bp.post("/merchant/products/<int:product_id>/archive")
@login_required
def archive_product(product_id: int):
    item = _merchant_product(product_id)
    service.archive_product(_user(), item)
    db.session.commit()
    flash(f"{item.name} is archived; its cards now show “offer unavailable”.", "success")
    return redirect(url_for("shop_embed.merchant_home"))


@bp.get("/merchant/orders")
@login_required
def merchant_orders():
    merchant = _merchant_or_403()
    if merchant is None:
        return redirect(url_for("shop_embed.merchant_profile"))
    status = request.args.get("status") or None
    if status not in (None, *ORDER_STATUSES):
        abort(404)
    page = service.orders_of_merchant(
        _user(),
        status=status,
        cursor=request.args.get("cursor"),
        limit=limit_from(request.args.get("limit"), 25),
    )
    return render_template(
        "shop_embed/merchant_orders.html",
        merchant=merchant,
        page=page,
        status=status,
        statuses=ORDER_STATUSES,
    )
