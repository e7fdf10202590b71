from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from . import service
from .models import LedgerEntry

bp = Blueprint("members", __name__)


@bp.get("/wallet")
@login_required
def wallet():
    entries = db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.user_id == current_user.id)
        .order_by(LedgerEntry.id.desc())
        .limit(50)
    )
    return render_template(
        "members/wallet.html", summary=service.summary(current_user), entries=list(entries)
    )
