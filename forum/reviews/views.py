"""Review pages: the composer the invitation leads to, edits and revisions, the small
POST actions (helpful, reply, flag, hide, delete), experience reports and their
decisions, the merchant's reward top-up; and the sections other pages ask for
(``product_section`` for ``signals.product_shown``, ``thread_banner`` for
``signals.thread_shown``)."""

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms.fields import SelectChoice

from ..board import service as board
from ..embeds import EmbedContext, expand
from ..errors import ServiceError
from ..extensions import db
from ..markup import EmbedRef, placeholder
from ..moderation import service as moderation
from ..shop_embed import service as shop
from ..web import form_status, run_form, safe_referrer
from . import service
from .forms import (
    ActionForm,
    EditReviewForm,
    FlagForm,
    ReasonForm,
    ReplyForm,
    ReportForm,
    ReviewForm,
    TopUpForm,
)
from .photos import PHOTOS

bp = Blueprint("reviews", __name__)


def _product_page(product_id: int, review_id: int | None = None) -> str:
    anchor = f"review-{review_id}" if review_id else "reviews"
    return url_for("shop_embed.product", product_id=product_id, _anchor=anchor)


# --- the composer ------------------------------------------------------------------------


@bp.route("/reviews/write", methods=["GET", "POST"])
@login_required
def write():
    """Review a purchase: ``?order_id=`` (the invitation's link) or ``?product_id=``."""
    order_id = request.args.get("order_id", type=int)
    product_id = request.args.get("product_id", type=int)
    items = service.reviewable_items(current_user, product_id)
    if order_id is not None:
        items = [(item, order) for item, order in items if order.id == order_id]
    form = ReviewForm()
    choice = request.values.get("product_id", type=int)
    chosen = next((pair for pair in items if pair[0].product_id == choice), None) or (
        items[0] if items else None
    )
    if chosen is None:
        return render_template("reviews/write.html", items=[], form=form, chosen=None), 200
    item, order = chosen
    form.product_id.data = str(item.product_id)

    def create():
        uploads = [PHOTOS.read_limited(f.stream) for f in (form.photos.data or []) if f]
        return service.create_review(
            current_user,
            item.product_id,
            order_id=order.id,
            rating=int(form.rating.data),
            title=form.title.data,
            body=form.body.data,
            photos=uploads,
        )

    done = run_form(form, create)
    if done:
        flash("Thanks: your review is up.")
        return redirect(_product_page(item.product_id, done.value.id))
    product = shop.get_product(item.product_id, viewer=current_user)
    return render_template(
        "reviews/write.html",
        items=items,
        form=form,
        chosen=chosen,
        product=product,
        reward=service.describe(service.reward_for("review", product.merchant_id), order.currency),
    ), form_status(form)


@bp.get("/reviews/photos/<name>")
def photo(name: str):
    return PHOTOS.send(name)


@bp.route("/reviews/<int:review_id>/edit", methods=["GET", "POST"])
@login_required
def edit(review_id: int):
    review = service.get_review(review_id, viewer=current_user)
    if review.author_id != current_user.id:
        abort(403)
    form = EditReviewForm(
        obj=None if request.method == "POST" else review,
        data=None if request.method == "POST" else {"rating": str(review.rating)},
    )
    done = run_form(
        form,
        lambda: service.edit_review(
            current_user,
            review,
            rating=int(form.rating.data),
            title=form.title.data,
            body=form.body.data,
        ),
    )
    if done:
        return redirect(_product_page(review.product_id, review.id))
    return render_template("reviews/edit.html", review=review, form=form), form_status(form)


@bp.get("/reviews/<int:review_id>/revisions")
def revisions(review_id: int):
    review = service.get_review(review_id, viewer=current_user)
    return render_template(
        "reviews/revisions.html", review=review, revisions=service.revisions(review)
    )


# --- small actions ---------------------------------------------------------------------------


def _act(review_id: int, action, form=None, *, message: str | None = None):
    """Run ``action(review)`` for a POST button; a refusal is flashed, never a 500."""
    form = form or ActionForm()
    review = service.get_review(review_id, viewer=current_user)
    target = _product_page(review.product_id, review.id)
    if not form.validate_on_submit():
        flash("That form expired; try again.", "error")
        return redirect(target)
    try:
        action(review, form)
        db.session.commit()
        if message:
            flash(message)
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(safe_referrer(target) if "flag" in request.path else target)


@bp.post("/reviews/<int:review_id>/helpful")
@login_required
def helpful(review_id: int):
    return _act(review_id, lambda review, _f: service.vote_helpful(current_user, review))


@bp.post("/reviews/<int:review_id>/reply")
@login_required
def reply(review_id: int):
    return _act(
        review_id,
        lambda review, f: service.reply(current_user, review, f.body.data),
        ReplyForm(),
        message="Your reply is up.",
    )


@bp.post("/reviews/<int:review_id>/flag")
@login_required
def flag(review_id: int):
    return _act(
        review_id,
        lambda review, f: service.flag_review(current_user, review, f.reason.data, f.note.data),
        FlagForm(),
        message="Thanks; the moderators will have a look.",
    )


@bp.post("/reviews/<int:review_id>/delete")
@login_required
def delete(review_id: int):
    return _act(
        review_id,
        lambda review, _f: service.delete_review(
            current_user, review, request.form.get("reason", "")
        ),
        message="The review was deleted.",
    )


@bp.post("/reviews/<int:review_id>/<any(hide,restore):action>")
@login_required
def moderate(review_id: int, action: str):
    return _act(
        review_id,
        lambda review, f: service.set_hidden(current_user, review, action == "hide", f.reason.data),
        ReasonForm(),
        message="Hidden." if action == "hide" else "Restored.",
    )


@bp.get("/mod/reviews")
@login_required
def queue():
    """Moderators: flagged reviews and pending reports; a merchant: its pending reports."""
    flagged = service.flagged_reviews(current_user) if service.is_moderator(current_user) else []
    pending = service.pending_reports(current_user)
    if not service.is_moderator(current_user) and not shop.is_merchant(current_user):
        abort(403)
    return render_template(
        "reviews/queue.html",
        flagged=flagged,
        pending=pending,
    )


# --- experience reports --------------------------------------------------------------------


@bp.route("/reports/new", methods=["GET", "POST"])
@login_required
def new_report():
    categories = service.report_categories()
    slug = request.args.get("category")
    category = next(
        (c for c in categories if c.slug == slug), categories[0] if categories else None
    )
    if category is None:
        abort(404)
    items = service.reportable_items(current_user)
    form = ReportForm()
    form.order_item.choices = [
        SelectChoice(item.id, f"{item.name} · order #{order.id}") for item, order in items
    ]
    if request.method == "GET" and request.args.get("order_item", type=int):
        form.order_item.data = request.args.get("order_item", type=int)
    done = run_form(
        form,
        lambda: service.create_report(
            current_user,
            category,
            order_item_id=form.order_item.data,
            title=form.title.data,
            body=form.body.data,
        ),
    )
    if done:
        flash("Your report is posted and waits for approval.")
        return redirect(url_for("board.thread", thread_id=done.value.thread_id))
    return render_template(
        "reviews/new_report.html",
        category=category,
        form=form,
        items=items,
        reward=service.describe(service.site_reward("report")),
    ), form_status(form)


@bp.post("/reports/<int:report_id>/<any(approve,reject,remove):action>")
@login_required
def decide(report_id: int, action: str):
    report = service.get_report(report_id)
    form = ReasonForm()
    target = url_for("board.thread", thread_id=report.thread_id)
    if not form.validate_on_submit():
        flash("That form expired; try again.", "error")
        return redirect(target)
    try:
        if action == "remove":
            service.remove_report(current_user, report, form.reason.data)
        else:
            service.decide_report(
                current_user, report, approve=action == "approve", reason=form.reason.data
            )
        db.session.commit()
        flash({"approve": "Approved.", "reject": "Rejected.", "remove": "Removed."}[action])
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(safe_referrer(target))


# --- the merchant's top-up, the admin's categories ---------------------------------------------


@bp.route("/merchant/review-rewards", methods=["GET", "POST"])
@login_required
def topup():
    merchant = shop.require_merchant(current_user)
    current = service.merchant_topup(merchant.id)
    form = TopUpForm(obj=None if request.method == "POST" else current)
    done = run_form(
        form,
        lambda: service.set_merchant_topup(
            current_user,
            review_points=form.review_points.data,
            review_credit_cents=form.review_credit_cents.data,
            report_points=form.report_points.data,
            report_credit_cents=form.report_credit_cents.data,
        ),
    )
    if done:
        flash("Review rewards saved.")
        return redirect(url_for("reviews.topup"))
    return render_template(
        "reviews/topup.html",
        form=form,
        merchant=merchant,
        site={"review": service.site_reward("review"), "report": service.site_reward("report")},
    ), form_status(form)


@bp.post("/admin/categories/<slug>/experience-reports")
@login_required
def toggle_reports(slug: str):
    if not current_user.is_admin:
        abort(403)
    form = ActionForm()
    if form.validate_on_submit():
        category = board.get_category(slug, current_user)
        board.set_experience_reports(current_user, category, request.form.get("enabled") == "1")
        db.session.commit()
    return redirect(url_for("board.admin_categories"))


# --- sections of other pages (answers to forum.signals questions) ---------------------------


def product_section(product, *, viewer=None, **_) -> Markup:
    """``signals.product_shown``: ratings, reviews (``?sort=``, ``?cursor=``), experience
    reports and the threads that embed the product, under the product page."""
    sort = request.args.get("sort") or "helpful"
    if sort not in service.SORTS:
        sort = "helpful"
    try:
        page = service.list_reviews(
            product.id, sort=sort, cursor=request.args.get("cursor"), limit=10
        )
    except ServiceError:
        page = service.list_reviews(product.id, sort=sort, limit=10)
    ids = [r.id for r in page.items]
    user = viewer if viewer is not None and viewer.is_authenticated else None
    can_write = bool(user and service.reviewable_items(user, product.id))
    html = render_template(
        "reviews/_product_section.html",
        product=product,
        page=page,
        sort=sort,
        voted=service.voted_ids(user, ids),
        can_write=can_write,
        owner=bool(user and shop.owns_product(user, product)),
        moderator=service.is_moderator(user),
        reports=service.approved_reports(product.id),
        threads=service.threads_embedding(product.id, viewer=user),
        reward=service.describe(
            service.reward_for("review", product.merchant_id), product.currency
        ),
        flag_reasons=moderation.FLAG_REASONS,
    )
    return Markup(html)  # noqa: S704 (an autoescaped trusted template)


def thread_banner(thread, *, viewer=None, **_) -> Markup | None:
    """``signals.thread_shown``: "bought this" with the product card on a report; its
    state for the author and the deciders, with the reason when it was not approved."""
    report = service.report_for_thread(thread.id)
    if report is None:
        return None
    user = viewer if viewer is not None and viewer.is_authenticated else None
    first = board.first_post(thread)
    context = EmbedContext("post", first.id, first.author_id) if first else None
    card = expand(placeholder(EmbedRef("product", report.product_id)), context)
    order = shop.find_order(report.order_id)
    html = render_template(
        "reviews/_report_banner.html",
        report=report,
        card=card,
        bought_at=order.paid_at or order.created_at,
        is_author=bool(user and user.id == report.author_id),
        can_decide=bool(user and service.can_decide(user, report)),
        moderator=service.is_moderator(user),
    )
    return Markup(html)  # noqa: S704 (an autoescaped trusted template)
