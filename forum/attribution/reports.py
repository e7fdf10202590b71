"""The funnel report: impressions -> clicks -> actions -> orders -> revenue -> commission.

Grouped by post (or chat message), author, room, offer, day, or (admins) merchant.
Every figure is an aggregate query over the ledger tables, grouped in SQL:

- impressions from the per-day counters, clicks from the click log;
- actions and orders count distinct conversions credited to the group (under
  the linear model one order can be credited to two posts, so per-row counts may
  add up to more than the total; money never does: credits split it exactly);
- revenue is the credited share of paid orders, ``refunded_cents`` the part of
  it later refunded or cancelled; commission is the net sum of commission rows
  (earned minus reversed), so the totals equal the ledger;
- conversions without a touch appear in a ``direct`` row (or their own day).

Days are UTC dates; a range filters impressions and clicks by when they
happened and conversions (with all their commission rows) by when they occurred.
"""

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, select

from ..accounts.models import User
from ..board import service as board
from ..chat import service as chat
from ..csvtext import csv_text
from ..errors import ValidationFailed, field_error
from ..extensions import db
from ..markup import EmbedRef
from . import service
from .models import Click, Commission, Conversion, Credit, ImpressionCount

GROUPS = ("post", "author", "offer", "room", "day", "merchant")
MERCHANT_GROUPS = ("post", "author", "offer", "room", "day")
MAX_DAYS = 400


@dataclass
class Row:
    key: str
    label: str
    impressions: int = 0
    clicks: int = 0
    actions: int = 0
    orders: int = 0
    revenue_cents: int = 0
    refunded_cents: int = 0
    commission_cents: int = 0
    sources: set = field(default_factory=set, repr=False)

    @property
    def posts(self) -> int:
        return len(self.sources)

    @property
    def click_rate(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def conversion_rate(self) -> float | None:
        return (self.orders + self.actions) / self.clicks if self.clicks else None

    @property
    def revenue_per_mille_cents(self) -> int | None:
        return self.revenue_cents * 1000 // self.impressions if self.impressions else None

    @property
    def commission_per_mille_cents(self) -> int | None:
        return self.commission_cents * 1000 // self.impressions if self.impressions else None

    @property
    def revenue_per_post_cents(self) -> int | None:
        return self.revenue_cents // self.posts if self.posts else None

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("sources")
        data.update(
            posts=self.posts,
            click_rate=_rounded(self.click_rate),
            conversion_rate=_rounded(self.conversion_rate),
            revenue_per_post_cents=self.revenue_per_post_cents,
            revenue_per_mille_cents=self.revenue_per_mille_cents,
            commission_per_mille_cents=self.commission_per_mille_cents,
        )
        return data


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


@dataclass
class Report:
    group_by: str
    merchant_id: int | None
    start: date | None
    end: date | None
    rows: list[Row]
    totals: Row


def parse_range(start_raw: str | None, end_raw: str | None) -> tuple[date | None, date | None]:
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (both optional); 422 with fields when malformed."""
    errors: dict[str, list[str]] = {}
    parsed: list[date | None] = []
    for name, raw in (("from", start_raw), ("to", end_raw)):
        if raw in (None, ""):
            parsed.append(None)
            continue
        try:
            parsed.append(date.fromisoformat(raw))
        except (TypeError, ValueError):
            errors[name] = ["Use a date like 2026-03-01."]
            parsed.append(None)
    start, end = parsed
    if start and end and start > end:
        errors["from"] = ["The start must not be after the end."]
    if start and end and (end - start).days > MAX_DAYS:
        errors["to"] = [f"Ask for at most {MAX_DAYS} days at a time."]
    if errors:
        raise ValidationFailed("The date range is not valid.", fields=errors)
    return start, end


def _day(column):
    return func.date(column)


def _group_columns(group: str, table) -> list:
    """The SQL columns that identify a group in ``table`` (ImpressionCount, Click or Credit)."""
    if group == "all":
        return []
    if group == "post":
        return [table.source_kind, table.source_id]
    if group == "author":
        return [table.author_id]
    if group == "offer":
        return [table.embed_kind, table.embed_id]
    if group == "room":
        return [table.room]
    if group == "day":
        if table is ImpressionCount:
            return [ImpressionCount.day]
        if table is Click:
            return [_day(Click.created_at)]
        return [_day(Conversion.occurred_at)]
    if group == "merchant":
        return [Conversion.merchant_id if table is Credit else table.merchant_id]
    raise field_error("group_by", f"Use one of {', '.join(GROUPS)}.")


def _key(group: str, values: tuple) -> str:
    if group == "all":
        return "all"
    if group == "post":
        return f"{values[0]}:{values[1]}"
    if group == "author":
        return f"user:{values[0]}" if values[0] is not None else "user:deleted"
    if group == "offer":
        return f"{values[0]}:{values[1]}"
    if group == "room":
        return f"room:{values[0]}" if values[0] else "forum"
    if group == "day":
        return str(values[0])[:10]
    return f"user:{values[0]}" if values[0] is not None else "none"


def _time_range(column, start: date | None, end: date | None) -> list:
    conditions = []
    if start:
        conditions.append(column >= datetime.combine(start, time.min, UTC))
    if end:
        conditions.append(column < datetime.combine(end + timedelta(days=1), time.min, UTC))
    return conditions


def funnel(
    group_by: str, *, merchant_id: int | None, start: date | None = None, end: date | None = None
) -> Report:
    """The report for one merchant (``merchant_id``) or, for admins, every merchant (None)."""
    if group_by not in GROUPS:
        raise field_error("group_by", f"Use one of {', '.join(GROUPS)}.")
    rows = _rows(group_by, merchant_id, start, end)
    totals_rows = _rows("all", merchant_id, start, end)
    totals = totals_rows.get("all") or Row("all", "All")
    totals.key, totals.label = "all", "All"
    ordered = list(rows.values())
    if group_by == "day":
        ordered.sort(key=lambda r: r.key)
    else:
        ordered.sort(
            key=lambda r: (-r.revenue_cents, -r.commission_cents, -r.clicks, -r.impressions, r.key)
        )
    _label(group_by, ordered)
    return Report(group_by, merchant_id, start, end, ordered, totals)


def _rows(
    group: str, merchant_id: int | None, start: date | None, end: date | None
) -> dict[str, Row]:
    rows: dict[str, Row] = {}

    def row(values: tuple) -> Row:
        key = _key(group, values)
        if key not in rows:
            rows[key] = Row(key, key)
        return rows[key]

    # Impressions.
    cols = _group_columns(group, ImpressionCount)
    query = select(*cols, func.sum(ImpressionCount.count)).group_by(*cols)
    if merchant_id is not None:
        query = query.where(ImpressionCount.merchant_id == merchant_id)
    if start:
        query = query.where(ImpressionCount.day >= start)
    if end:
        query = query.where(ImpressionCount.day <= end)
    for *values, total in db.session.execute(query):
        row(tuple(values)).impressions += int(total or 0)

    # Clicks.
    cols = _group_columns(group, Click)
    query = (
        select(*cols, func.count(Click.id))
        .where(*_time_range(Click.created_at, start, end))
        .group_by(*cols)
    )
    if merchant_id is not None:
        query = query.where(Click.merchant_id == merchant_id)
    for *values, total in db.session.execute(query):
        row(tuple(values)).clicks += int(total or 0)

    # Which posts each group covers (for value per post).
    for table in (ImpressionCount, Click):
        cols = _group_columns(group, table)
        query = select(*cols, table.source_kind, table.source_id).distinct()
        if merchant_id is not None:
            query = query.where(table.merchant_id == merchant_id)
        if table is Click:
            query = query.where(*_time_range(Click.created_at, start, end))
        else:
            if start:
                query = query.where(ImpressionCount.day >= start)
            if end:
                query = query.where(ImpressionCount.day <= end)
        for *values, kind, source_id in db.session.execute(query):
            row(tuple(values)).sources.add((kind, source_id))

    # Credited conversions and revenue.
    conversion_filter = _time_range(Conversion.occurred_at, start, end)
    if merchant_id is not None:
        conversion_filter.append(Conversion.merchant_id == merchant_id)
    cols = _group_columns(group, Credit)
    is_order = Conversion.kind == "order"
    query = (
        select(
            *cols,
            func.count(func.distinct(Conversion.id)).filter(is_order),
            func.count(func.distinct(Conversion.id)).filter(~is_order),
            func.coalesce(func.sum(Credit.revenue_cents).filter(is_order), 0),
            func.coalesce(
                func.sum(Credit.revenue_cents).filter(
                    and_(is_order, Conversion.reversed_at.is_not(None))
                ),
                0,
            ),
        )
        .select_from(Credit)
        .join(Conversion, Conversion.id == Credit.conversion_id)
        .where(*conversion_filter)
        .group_by(*cols)
    )
    for *values, orders, actions, revenue, refunded in db.session.execute(query):
        target = row(tuple(values))
        target.orders += int(orders or 0)
        target.actions += int(actions or 0)
        target.revenue_cents += int(revenue or 0)
        target.refunded_cents += int(refunded or 0)

    # Direct conversions (no touch): their own row, or their day / merchant.
    direct_cols = {
        "day": [_day(Conversion.occurred_at)],
        "merchant": [Conversion.merchant_id],
        "all": [],
    }.get(group)
    query = (
        select(
            *(direct_cols or []),
            func.count(Conversion.id).filter(is_order),
            func.count(Conversion.id).filter(~is_order),
            func.coalesce(func.sum(Conversion.revenue_cents).filter(is_order), 0),
            func.coalesce(
                func.sum(Conversion.revenue_cents).filter(
                    and_(is_order, Conversion.reversed_at.is_not(None))
                ),
                0,
            ),
        )
        .where(Conversion.direct.is_(True), *conversion_filter)
        .group_by(*(direct_cols or []))
    )
    for *values, orders, actions, revenue, refunded in db.session.execute(query):
        if not (orders or actions):
            continue
        if direct_cols is None:
            key = "direct"
            target = rows.setdefault(key, Row(key, "Direct (no tracked link)"))
        else:
            target = row(tuple(values))
        target.orders += int(orders or 0)
        target.actions += int(actions or 0)
        target.revenue_cents += int(revenue or 0)
        target.refunded_cents += int(refunded or 0)

    # Commission: the net ledger, through the credit it was earned by.
    query = (
        select(*cols, func.coalesce(func.sum(Commission.amount_cents), 0))
        .select_from(Commission)
        .join(Credit, Credit.id == Commission.credit_id)
        .join(Conversion, Conversion.id == Commission.conversion_id)
        .where(*conversion_filter)
        .group_by(*cols)
    )
    for *values, total in db.session.execute(query):
        row(tuple(values)).commission_cents += int(total or 0)
    return rows


def _label(group: str, rows: list[Row]) -> None:
    if group == "post":
        post_ids = [int(r.key.split(":")[1]) for r in rows if r.key.startswith("post:")]
        titles = post_titles(post_ids)
        excerpts = message_labels(
            [int(r.key.split(":")[1]) for r in rows if r.key.startswith("message:")]
        )
        for r in rows:
            kind, _, ident = r.key.partition(":")
            if kind == "post":
                r.label = titles.get(int(ident), f"Post #{ident}")
            elif kind == "message":
                r.label = excerpts.get(int(ident), f"Chat message #{ident}")
    elif group in ("author", "merchant"):
        ids = [
            int(r.key.split(":")[1])
            for r in rows
            if r.key.startswith("user:") and r.key[5:].isdigit()
        ]
        names = (
            dict(
                db.session.execute(select(User.id, User.username).where(User.id.in_(ids)))
                .tuples()
                .all()
            )
            if ids
            else {}
        )
        for r in rows:
            if r.key == "none":
                r.label = "No merchant"
            elif r.key.startswith("user:"):
                ident = r.key[5:]
                r.label = (
                    names.get(int(ident), f"User #{ident}")
                    if ident.isdigit()
                    else "Deleted account"
                )
    elif group == "offer":
        refs = []
        for r in rows:
            kind, _, ident = r.key.partition(":")
            if ident.isdigit():
                refs.append(EmbedRef(kind, int(ident)))
        labels = service.offer_labels(refs)
        for r in rows:
            kind, _, ident = r.key.partition(":")
            if ident.isdigit():
                r.label = labels.get(EmbedRef(kind, int(ident)), r.key)
    elif group == "room":
        for r in rows:
            if r.key == "forum":
                r.label = "Forum posts"
            elif r.key.startswith("room:"):
                r.label = "#" + r.key[5:]


def message_labels(message_ids: list[int]) -> dict[int, str]:
    """ "#room: the start of the message"; chat's privacy rule keeps private rooms private
    (a report is read beyond the room, so it asks as nobody in particular)."""
    return chat.describe_messages(message_ids, viewer=None)


def post_titles(post_ids: list[int]) -> dict[int, str]:
    return board.describe_posts(post_ids)


CSV_FIELDS = (
    "key",
    "label",
    "impressions",
    "clicks",
    "actions",
    "orders",
    "revenue_cents",
    "refunded_cents",
    "commission_cents",
    "posts",
    "click_rate",
    "conversion_rate",
    "revenue_per_post_cents",
    "revenue_per_mille_cents",
    "commission_per_mille_cents",
)


def to_csv(report: Report) -> str:
    return csv_text(_csv_rows(report), lineterminator="\n")


def _csv_rows(report: Report) -> Iterator[Sequence[object]]:
    yield CSV_FIELDS
    for r in [*report.rows, report.totals]:
        data = r.as_dict()
        yield [data.get(name, "") for name in CSV_FIELDS]


def daily_series(merchant_id: int | None, start: date, end: date) -> dict:
    """Chart data: one point per day from ``start`` to ``end`` (missing days are zeros)."""
    report = funnel("day", merchant_id=merchant_id, start=start, end=end)
    by_day = {r.key: r for r in report.rows}
    days: list[str]
    series: dict[str, list[int]]
    days, series = (
        [],
        {
            name: []
            for name in (
                "impressions",
                "clicks",
                "actions",
                "orders",
                "revenue_cents",
                "commission_cents",
            )
        },
    )
    current = start
    while current <= end:
        key = current.isoformat()
        days.append(key)
        found = by_day.get(key)
        for name in series:
            series[name].append(getattr(found, name) if found else 0)
        current += timedelta(days=1)
    return {"days": days, **series}
