"""Event attendance as SQL expressions for other features that compose them into ONE
statement over members (campaigns' segments): each builder takes a column holding a
member id (``User.id`` of the enclosing query) and returns a correlated expression,
never NULL."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_

from ...database import correlated_count, correlated_exists
from ..models import Signup


def no_show_sql(user_id) -> ColumnElement[bool]:
    """The member signed up for an event and was marked a no-show."""
    return correlated_exists(Signup, Signup.user_id == user_id, Signup.attendance == "no_show")


def attended_count_sql(user_id) -> ColumnElement[int]:
    """Events the member attended (marked attended or checked in), 0 without any."""
    return correlated_count(
        Signup,
        Signup.user_id == user_id,
        or_(Signup.attendance == "attended", Signup.checked_in_at.is_not(None)),
    )
