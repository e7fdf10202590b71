"""Promotion pages: the deals index, group-buy, team (share link) and snap-up pages, the
widget fragment promotions.js refetches live, and the merchant's pages to create,
watch and end promotions. Thin: parse, call the service, commit or show the refusal.
"""

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from ..clock import now
from ..errors import ServiceError
from ..extensions import db
from ..permissions import acting_user as _user
from ..shop_embed import service as shop
from ..templating import viewer_zone
from ..web import form_status, form_values, run_form
from . import service
from .forms import AuctionForm, GroupBuyForm, GuessGameForm, SnapForm
from .service.common import AUCTIONS, GAMES, GROUP_BUYS, SNAPS, OfferKind, check_offer_owner

bp = Blueprint("promotions", __name__, url_prefix="/promotions")


# --- public pages ------------------------------------------------------------------


def _act(action, *, back: str, success: str | None = None, then=None):
    """Run one service ``action`` for a POST button and redirect.

    Refused (ServiceError): roll back, flash the refusal, back to ``back``. Done: commit,
    flash ``success`` (or what ``then(result)`` says as ``(message, url)``), redirect.
    """
    try:
        result = action()
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(back)
    db.session.commit()
    message, target = then(result) if then else (success, back)
    if message:
        flash(message, "success")
    return redirect(target)


@bp.get("/")
def index():
    group_buys = service.open_group_buys()
    snaps = service.current_snaps()
    return render_template(
        "promotions/index.html",
        group_buys=group_buys,
        snaps=snaps,
        counts=service.campaign_counts([g.id for g in group_buys]),
        left=service.stock_left(snaps),
        at=now(),
    )


def _offer_page(offer: OfferKind, rule: str, render: Callable[..., Markup]):
    """Declare ``offer``'s public page at ``rule``: the offer (404 for another id), its
    widget (``render``, linking to the offer, nothing around it to attribute) and what the
    decorated function gives for it, on the template ``promotions/<function name>.html``."""

    def declare(values: Callable[[Any], dict]):
        @functools.wraps(values)
        def page(**ids: int):
            item = offer.get(ids[offer.arg])
            widget = render(item, _page_context(), offer.url(item))
            return render_template(
                f"promotions/{page.__name__}.html", widget=widget, **values(item)
            )

        bp.add_url_rule(rule, view_func=page, methods=["GET"])
        return page

    return declare


def _offer_button(offer: OfferKind, rule: str):
    """Declare a member's POST button on ``offer`` at ``rule`` (signed in): the decorated
    function is given the offer (404 for another id) and answers the request."""

    def declare(press: Callable[[Any], Any]):
        @functools.wraps(press)
        def view(**ids: int):
            return press(offer.get(ids[offer.arg]))

        bp.add_url_rule(rule, view_func=login_required(view), methods=["POST"])
        return view

    return declare


def _page_context():
    from ..embeds import EmbedContext

    # The offer's own page: no post or message around it, so nothing to attribute.
    return EmbedContext("page", None, None)


@_offer_page(GROUP_BUYS, "/group-buys/<int:group_buy_id>", service.render_group_buy)
def group_buy(item):
    return {"group_buy": item, "counts": service.campaign_counts([item.id])[item.id]}


@bp.get("/group-buys/<int:group_buy_id>/widget")
def group_buy_widget(group_buy_id: int):
    """The changing part of a group-buy widget, for the viewer: promotions.js swaps it in."""
    item = service.get_group_buy(group_buy_id)
    return service.group_buy_body(item), 200, {"Cache-Control": "no-store"}


@_offer_button(GROUP_BUYS, "/group-buys/<int:group_buy_id>/teams")
def start_team(item):
    return _act(
        lambda: service.start_team(_user(), item)[0],
        back=service.group_buy_url(item),
        then=lambda team: (
            "Your team is started: share the link so others can join.",
            url_for("promotions.team", team_id=team.id),
        ),
    )


@bp.get("/teams/<int:team_id>")
def team(team_id: int):
    # The state is read from the clock (status_at); settling a team whose time is up is
    # the periodic sweep's (settle_due_teams) or the next join's, never this GET's.
    item = service.get_team(team_id)
    viewer = _user()
    mine = service.membership(viewer, item)
    return render_template(
        "promotions/team.html",
        team=item,
        group_buy=item.group_buy,
        roster=service.roster(item),
        mine=mine,
        status=item.status_at(now()),
        at=now(),
        share_url=service.share_url(item),
        room=service.team_room(item.id),
    )


@bp.post("/teams/<int:team_id>/join")
@login_required
def join_team(team_id: int):
    item = service.get_team(team_id)
    return _act(
        lambda: service.join_team(_user(), item),
        back=url_for("promotions.team", team_id=team_id),
        success="You're in the team!",
    )


@_offer_page(SNAPS, "/snaps/<int:snap_id>", service.render_snap)
def snap(item):
    return {"snap": item, "bought": service.bought_by(_user(), item)}


@_offer_button(SNAPS, "/snaps/<int:snap_id>/buy")
def buy_snap(item):
    raw = request.form.get("quantity", "1")
    quantity = int(raw) if raw.isdigit() and len(raw) < 4 else None
    return _hold(
        lambda key: service.buy_snap(_user(), item, quantity, idempotency_key=key),
        back=service.snap_url(item),
        message="Got it! Pay within the time shown to keep your units.",
    )


def _hold(call, *, back: str, message: str):
    """A buy or take button: ``call(idempotency_key)`` returns (order, replayed); done, the
    member is sent to the order (``message``) to pay it."""
    return _act(
        lambda: call(request.form.get("idempotency_key") or None)[0],
        back=back,
        then=lambda order: (message, url_for("shop_embed.order", order_id=order.id)),
    )


# --- merchant pages ----------------------------------------------------------------


def _merchant_or_403():
    if not shop.is_merchant(current_user):
        abort(403)
    return shop.merchant_of(current_user)


def _product_choices(merchant) -> list:
    from wtforms.fields import SelectChoice

    return [
        SelectChoice(p.id, f"{p.name} ({shop.available_stock([p.id]).get(p.id, 0)} in stock)")
        for p in shop.merchant_products(merchant, only_buyable=True)
    ]


def _local(value):
    return value.astimezone(viewer_zone()).replace(tzinfo=None, second=0, microsecond=0)


def _aware(value):
    return value.replace(tzinfo=viewer_zone()) if value is not None else None


@bp.get("/merchant")
@login_required
def merchant_home():
    merchant = _merchant_or_403()
    if merchant is None:
        flash("Set up your shop profile first.", "info")
        return redirect(url_for("shop_embed.merchant_profile"))
    group_buys = service.group_buys_of(merchant.id)
    snaps = service.snaps_of(merchant.id)
    auctions = service.auctions_of(merchant.id)
    return render_template(
        "promotions/merchant.html",
        merchant=merchant,
        auctions=auctions,
        auctions_left=service.auction_units_left(auctions),
        games=service.games_of(merchant.id),
        group_buys=group_buys,
        snaps=snaps,
        counts=service.campaign_counts([g.id for g in group_buys]),
        left=service.stock_left(snaps),
        at=now(),
    )


LABELS = {
    "groupbuy": "Group-buy",
    "snap": "Snap-up",
    "auction": "Dutch auction",
    "guess": "Guessing game",
}


def _terms(form, names: tuple[str, ...]) -> dict:
    """The service's keyword arguments from ``form``'s fields ``names``: local times aware."""
    values = form_values(form, *names)
    return {k: _aware(v) if isinstance(v, datetime) else v for k, v in values.items()}


def _new_promotion(form_class, kind: str, *, prefill: dict[str, timedelta], create, terms, landing):
    """The merchant's page for a new promotion (``kind``).

    ``prefill`` offers times (offsets from now) on first display; ``create`` is the
    service function, given the product and the form's fields ``terms``;
    ``landing(promotion)`` is the created promotion's page.
    """
    merchant = _merchant_or_403()
    if merchant is None:
        return redirect(url_for("shop_embed.merchant_profile"))
    form = form_class()
    form.money_currency = merchant.currency  # prices are typed in the shop's currency
    form.product_id.choices = _product_choices(merchant)
    if request.method == "GET":
        at = now()
        for name, offset in prefill.items():
            getattr(form, name).data = _local(at + offset)
    done = run_form(
        form, lambda: create(_user(), product_id=form.product_id.data, **_terms(form, terms))
    )
    if done:
        flash(
            f"{LABELS[kind]} created. Embed it anywhere with [[{kind}:{done.value.id}]].",
            "success",
        )
        return redirect(landing(done.value))
    return render_template(
        "promotions/form.html", form=form, kind=kind, zone=viewer_zone()
    ), form_status(form)


@bp.route("/merchant/group-buys/new", methods=["GET", "POST"])
@login_required
def new_group_buy():
    return _new_promotion(
        GroupBuyForm,
        "groupbuy",
        prefill={"ends_at": timedelta(days=7)},
        create=service.create_group_buy,
        terms=(
            "group_price_cents",
            "team_size",
            "team_window_minutes",
            "ends_at",
            "auto_complete",
            "steps",
        ),
        landing=lambda item: url_for("promotions.merchant_group_buy", group_buy_id=item.id),
    )


@bp.route("/merchant/snaps/new", methods=["GET", "POST"])
@login_required
def new_snap():
    return _new_promotion(
        SnapForm,
        "snap",
        prefill={"starts_at": timedelta(hours=1), "ends_at": timedelta(hours=3)},
        create=service.create_snap,
        terms=("price_cents", "stock", "per_user_limit", "starts_at", "ends_at"),
        landing=lambda item: url_for("promotions.merchant_snap", snap_id=item.id),
    )


def _own_promotion(get, promotion_id: int):
    """``get(promotion_id)`` for a merchant; another shop's promotions do not exist for them."""
    _merchant_or_403()
    item = get(promotion_id)
    try:
        check_offer_owner(_user(), item.merchant_id)
    except ServiceError:
        abort(404)
    return item


def _add_stop_button(
    offer: OfferKind, name: str, path: str, stop: tuple[str, Callable[[Any, Any], Any], str]
) -> None:
    """The merchant's ``stop`` button ``(verb, service call, what the merchant is told)``
    on one of their offers: ``<verb>_<name>`` at ``/merchant/<path>/<id>/<verb>``, back to
    the offer's watch page ``merchant_<name>``."""
    verb, stop_call, stopped = stop

    def stop_button(**ids: int):
        item = _own_promotion(offer.get, ids[offer.arg])
        back = url_for(f"promotions.merchant_{name}", **{offer.arg: item.id})
        return _act(lambda: stop_call(_user(), item), back=back, success=stopped)

    rule = f"/merchant/{path}/<int:{offer.arg}>/{verb}"
    bp.add_url_rule(rule, f"{verb}_{name}", login_required(stop_button), methods=["POST"])


@bp.get("/merchant/group-buys/<int:group_buy_id>")
@login_required
def merchant_group_buy(group_buy_id: int):
    item = _own_promotion(service.get_group_buy, group_buy_id)
    return render_template(
        "promotions/merchant_group_buy.html",
        group_buy=item,
        teams=service.teams_of_campaign(item),
        counts=service.campaign_counts([item.id])[item.id],
        at=now(),
        room=service.group_buy_room(item.id),
    )


_add_stop_button(
    GROUP_BUYS,
    "group_buy",
    "group-buys",
    ("end", service.end_group_buy, "The group-buy has ended; teams still forming were closed."),
)


@bp.get("/merchant/snaps/<int:snap_id>")
@login_required
def merchant_snap(snap_id: int):
    item = _own_promotion(service.get_snap, snap_id)
    left = service.stock_left([item])[item.id]
    return render_template(
        "promotions/merchant_snap.html",
        snap=item,
        left=left,
        state=service.state_of(item, left),
        sales=service.sales(item),
        room=service.snap_room(item.id),
    )


_add_stop_button(SNAPS, "snap", "snaps", ("end", service.end_snap, "The snap-up has ended."))


# --- Dutch auctions and guessing games -----------------------------------------------


@_offer_page(AUCTIONS, "/auctions/<int:auction_id>", service.render_auction)
def auction(item):
    return {"auction": item, "taken": service.taken_by(_user(), item)}


@_offer_button(AUCTIONS, "/auctions/<int:auction_id>/take")
def take_auction(item):
    return _hold(
        lambda key: service.take(_user(), item, idempotency_key=key),
        back=service.auction_url(item),
        message="It's yours at this price: pay within the time shown to keep it.",
    )


@_offer_page(GAMES, "/guess-games/<int:game_id>", service.render_game)
def guess_game(item):
    """The game's page: its widget and, for the viewer only, their own guesses."""
    return {"game": item, "mine": service.my_guesses(_user(), item)}


@_offer_button(GAMES, "/guess-games/<int:game_id>/guesses")
def submit_guess(item):
    raw = (request.form.get("amount_cents") or "").strip()
    amount = int(raw) if raw.isdigit() and len(raw) < 10 else raw
    back = service.game_url(item)
    return _act(
        lambda: service.submit_guess(_user(), item, amount),
        back=back,
        then=lambda result: (
            ("Unique right now" if result["unique_now"] else "Not unique right now")
            + f"; {result['unique_below']} unique guesses are below it.",
            back,
        ),
    )


# --- merchant pages: Dutch auctions and guessing games ------------------------------


def _add_game_pages(
    offer: OfferKind,
    *,
    name: str,
    path: str,
    form_class,
    terms: tuple[str, ...],
    prefill: dict[str, timedelta],
    create: Callable[..., Any],
    edit: Callable[..., Any],
    editable: Callable[[Any], bool],
    watch: Callable[[Any], dict],
    stop: tuple[str, Callable[[Any, Any], Any], str],
) -> None:
    """One kind of game's merchant pages under ``/merchant/<path>``: ``new_<name>``,
    ``merchant_<name>`` (watch; ``watch(item)`` are its values besides the offer),
    ``edit_<name>`` (until it starts) and the ``stop`` button (``_add_stop_button``).
    ``terms`` are the form's fields the service takes, by the same names."""
    kind, arg, get = offer.kind, offer.arg, offer.get

    def watch_url(item) -> str:
        return url_for(f"promotions.merchant_{name}", **{arg: item.id})

    def new_page():
        return _new_promotion(
            form_class, kind, prefill=prefill, create=create, terms=terms, landing=watch_url
        )

    def watch_page(**ids):
        item = _own_promotion(get, ids[arg])
        return render_template(
            f"promotions/merchant_{name}.html",
            **{name: item},
            editable=editable(item),
            **watch(item),
        )

    def edit_page(**ids):
        item = _own_promotion(get, ids[arg])
        if not editable(item):
            flash(f"This {LABELS[kind].lower()} has started: it can no longer be changed.")
            return redirect(watch_url(item))
        form = form_class()
        del form.product_id  # an offer keeps its product
        form.money_currency = item.currency
        if request.method == "GET":
            for term in terms:
                value = getattr(item, term)
                form[term].data = _local(value) if isinstance(value, datetime) else value
        if run_form(form, lambda: edit(_user(), item, **_terms(form, terms))):
            flash(f"{LABELS[kind]} changed.", "success")
            return redirect(watch_url(item))
        return render_template(
            "promotions/form.html", form=form, kind=kind, zone=viewer_zone(), editing=item
        ), form_status(form)

    one = f"/merchant/{path}/<int:{arg}>"
    for rule, endpoint, view, methods in (
        (f"/merchant/{path}/new", f"new_{name}", new_page, ["GET", "POST"]),
        (one, f"merchant_{name}", watch_page, ["GET"]),
        (f"{one}/edit", f"edit_{name}", edit_page, ["GET", "POST"]),
    ):
        bp.add_url_rule(rule, endpoint, login_required(view), methods=methods)
    _add_stop_button(offer, name, path, stop)


_add_game_pages(
    AUCTIONS,
    name="auction",
    path="auctions",
    form_class=AuctionForm,
    terms=service.AUCTION_TERMS,
    prefill={"starts_at": timedelta(hours=1)},
    create=service.create_auction,
    edit=service.edit_auction,
    editable=service.auction_editable,
    watch=lambda item: {
        "live": service.auction_payload(item),
        "sold": service.sold_prices(item),
        "room": service.auction_room(item.id),
    },
    stop=("end", service.end_auction, "The auction has ended; units already taken stay sold."),
)
_add_game_pages(
    GAMES,
    name="game",
    path="guess-games",
    form_class=GuessGameForm,
    terms=service.GAME_TERMS,
    prefill={"ends_at": timedelta(days=1)},
    create=service.create_game,
    edit=service.edit_game,
    editable=service.game_editable,
    watch=lambda item: {"live": service.game_payload(item), "room": service.game_room(item.id)},
    stop=("close", service.close_game, "The game is closed and its winner computed."),
)
