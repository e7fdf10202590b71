"""Experience reports: a long-form thread in a category marked for them, tied to one
of its author's completed order items; approved (and then rewarded) or rejected with
a reason by a moderator or the product's merchant."""

from flask import url_for
from markupsafe import escape
from sqlalchemy import select

from ...board import service as board
from ...clock import now
from ...database import add_unique, update_where
from ...errors import Conflict, Forbidden, NotFound, ValidationFailed
from ...extensions import db
from ...moderation import service as moderation
from ...moderation.schemas import Target, target_answer
from ...notifications import service as notifications
from ...permissions import check_not_suspended
from ...shop_embed import service as shop
from ..models import ExperienceReport
from . import rewards
from .common import REASON_MAX
from .reviews import check_completed, check_not_the_shop, is_moderator, purchase_columns


def report_categories() -> list:
    """The board's categories marked for experience reports."""
    return board.report_categories()


def reportable_items(user) -> list[tuple]:
    """(item, order): ``user``'s completed order items with no experience report yet,
    newest first."""
    if not (user and getattr(user, "is_authenticated", False)):
        return []
    rows = shop.completed_items(user.id, limit=100)
    used = set(
        db.session.scalars(
            select(ExperienceReport.order_item_id).where(
                ExperienceReport.order_item_id.in_([item.id for item, _o in rows] or [0])
            )
        )
    )
    return [(item, order) for item, order in rows if item.id not in used]


def create_report(author, category, *, order_item_id, title, body) -> ExperienceReport:
    """Post an experience report: a thread in ``category`` tied to ``order_item_id``.

    The rules of the reviews path: raises ValidationFailed (the category takes no
    reports, no purchase chosen, bad title or body), Forbidden ``not_a_buyer`` (not the
    author's purchase), ``order_refunded`` / ``order_not_completed``,
    ``merchant_cannot_review`` / ``shared_address`` (the shop's own account or address),
    ``suspended``; Conflict ``already_reported`` (one report per order item). Nothing is
    written then. The report waits for approval; the product's merchant is told.
    """
    if not category.experience_reports:
        raise ValidationFailed(
            "This category does not take experience reports.", code="not_a_report_category"
        )
    check_not_suspended(author)
    if isinstance(order_item_id, bool) or not isinstance(order_item_id, int):
        raise ValidationFailed(
            "Choose the purchase your report is about.",
            fields={"order_item_id": ["Choose the purchase it is about."]},
        )
    row = shop.bought_item(author.id, order_item_id)
    if row is None:
        raise Forbidden("Reports are about your own purchases.", code="not_a_buyer")
    item, order = row
    check_completed(order)
    check_not_the_shop(author, order)
    if db.session.scalar(
        select(ExperienceReport.id).where(ExperienceReport.order_item_id == item.id)
    ):
        raise Conflict("You have already reported on this purchase.", code="already_reported")
    thread = board.create_thread(author, category, title, body, experience_report=True)
    report = ExperienceReport(
        thread_id=thread.id,
        author_id=author.id,
        **purchase_columns(order, item),
        status="pending",
        created_at=now(),
    )
    if not add_unique(report):
        raise Conflict("You have already reported on this purchase.", code="already_reported")
    notifications.notify(
        order.merchant.user_id,
        "report_pending",
        f"An experience report on {item.name} awaits your approval.",
        url_for("board.thread", thread_id=thread.id),
        actor_id=author.id,
    )
    return report


def report_for_thread(thread_id: int) -> ExperienceReport | None:
    return db.session.scalar(
        select(ExperienceReport).where(ExperienceReport.thread_id == thread_id)
    )


def get_report(report_id: int) -> ExperienceReport:
    report = db.session.get(ExperienceReport, report_id) if isinstance(report_id, int) else None
    if report is None:
        raise NotFound("No such report.")
    return report


@target_answer(lambda target_id, viewer: db.session.get(ExperienceReport, target_id))
def describe_report(report: ExperienceReport) -> Target:
    """An experience report for moderation's links (the audit log): its thread."""
    return Target(
        kind="report",
        id=report.id,
        author_id=report.author_id,
        url=url_for("board.thread", thread_id=report.thread_id),
        context=f"an experience report ({report.status})",
        body_html=escape(""),
    )


def can_decide(user, report: ExperienceReport) -> bool:
    if is_moderator(user):
        return True
    merchant = shop.merchant_of(user) if shop.is_merchant(user) else None
    return merchant is not None and merchant.id == report.merchant_id


def decide_report(actor, report: ExperienceReport, *, approve: bool, reason: str = "") -> None:
    """Approve (the reward is paid, once per order item) or reject (a reason is required
    and shown to the author) a pending report. Moderators and the product's merchant.

    Raises Forbidden, ValidationFailed (no reason for a rejection), Conflict
    ``already_decided`` (one conditional UPDATE decides between two deciders).
    """
    if not can_decide(actor, report):
        raise Forbidden("Only a moderator or the shop that sold it can decide on a report.")
    moderator = is_moderator(actor)
    if moderator:
        reason = moderation.check_reason(reason)
    reason = (reason or "").strip()[:REASON_MAX] if isinstance(reason, str) else ""
    if not approve and not reason:
        raise ValidationFailed(fields={"reason": ["Tell the author why."]})
    moved = update_where(
        ExperienceReport,
        ExperienceReport.id == report.id,
        ExperienceReport.status == "pending",
        status="approved" if approve else "rejected",
        decision_reason=reason or None,
        decided_by_id=actor.id,
        decided_at=now(),
    )
    if moved != 1:
        raise Conflict("This report has already been decided.", code="already_decided")
    db.session.refresh(report)
    thread_url = url_for("board.thread", thread_id=report.thread_id)
    if approve:
        paid = rewards.reward("report", report)
        earned = (
            rewards.describe({"points": paid.points, "credit_cents": paid.credit_cents})
            if paid
            else ""
        )
        text = "Your experience report was approved" + (
            f": you earned {earned}." if earned else "."
        )
    else:
        text = f"Your experience report was not approved: {reason}"
    notifications.notify(report.author_id, "report_decided", text, thread_url, actor_id=actor.id)
    if moderator:
        moderation.record_on(
            actor,
            "report.approve" if approve else "report.reject",
            "report",
            report,
            reason=reason,
            thread_id=report.thread_id,
        )


def remove_report(actor, report: ExperienceReport, reason: str = "") -> None:
    """A moderator takes a report down for abuse: its first post is hidden and its
    reward taken back (never paid again)."""
    moderation.check_moderator(actor)
    reason = moderation.check_reason(reason)
    moved = update_where(
        ExperienceReport,
        ExperienceReport.id == report.id,
        ExperienceReport.status != "removed",
        status="removed",
        decision_reason=reason[:REASON_MAX],
        decided_by_id=actor.id,
    )
    if moved != 1:
        return
    rewards.reverse("report", report.order_item_id, "removed_for_abuse")
    thread = board.threads_with_ids([report.thread_id]).get(report.thread_id)
    first = board.first_post(thread) if thread else None
    if first is not None:
        board.set_hidden(actor, first, True, reason)
    moderation.record_on(
        actor, "report.remove", "report", report, reason=reason, thread_id=report.thread_id
    )
    db.session.refresh(report)


def _with_threads(reports: list[ExperienceReport]) -> list[tuple]:
    """(report, thread) pairs, the threads read through the board's service."""
    threads = board.threads_with_ids({report.thread_id for report in reports})
    return [(report, threads[report.thread_id]) for report in reports]


def approved_reports(product_id: int, limit: int = 10) -> list[tuple]:
    """(report, thread) of ``product_id``'s approved reports whose thread is not deleted
    (the board's ``live_thread_ids`` expression), newest first."""
    return _with_threads(
        list(
            db.session.scalars(
                select(ExperienceReport)
                .where(
                    ExperienceReport.product_id == product_id,
                    ExperienceReport.status == "approved",
                    ExperienceReport.thread_id.in_(board.live_thread_ids()),
                )
                .order_by(ExperienceReport.id.desc())
                .limit(limit)
            )
        )
    )


def pending_reports(actor, limit: int = 50) -> list[tuple]:
    """(report, thread) of the reports waiting for ``actor``: every pending one for
    moderators, the shop's own for a merchant."""
    query = (
        select(ExperienceReport)
        .where(ExperienceReport.status == "pending")
        .order_by(ExperienceReport.id)
        .limit(limit)
    )
    if not is_moderator(actor):
        merchant = shop.merchant_of(actor) if shop.is_merchant(actor) else None
        if merchant is None:
            return []
        query = query.where(ExperienceReport.merchant_id == merchant.id)
    return _with_threads(list(db.session.scalars(query)))
