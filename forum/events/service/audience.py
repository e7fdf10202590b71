"""Event attendance as SQL expressions for other features that compose them into ONE
statement over members (campaigns' segments): each builder takes a column holding a
member id (``User.id`` of the enclosing query) and returns a correlated expression,
never NULL."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, func, or_, select

from ..models import Signup


def no_show_sql(user_id) -> ColumnElement[bool]:
    """The member signed up for an event and was marked a no-show."""
    return exists(
        select(Signup.id)
        .where(Signup.user_id == user_id, Signup.attendance == "no_show")
        .correlate_except(Signup)
    )


def attended_count_sql(user_id) -> ColumnElement[int]:
    """Events the member attended (marked attended or checked in), 0 without any."""
    return func.coalesce(
        select(func.count(Signup.id))
        .where(
            Signup.user_id == user_id,
            or_(Signup.attendance == "attended", Signup.checked_in_at.is_not(None)),
        )
        .correlate_except(Signup)
        .scalar_subquery(),
        0,
    )
