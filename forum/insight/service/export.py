"""Evaluations as CSV: one promotion's report, and a roll-up of many promotions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ...csvtext import csv_text

CSV_FIELDS = ("group", "members", "buyers", "orders", "revenue_cents", "orders_per_member")
SOURCE_FIELDS = (
    "source_kind",
    "source_id",
    "author",
    "reach",
    "clickers",
    "buyers",
    "orders",
    "revenue_cents",
)


def to_csv(report: dict) -> str:
    """The evaluation as CSV: the two groups, the lift, costs, and the per-source table."""
    return csv_text(_report_rows(report))


def _report_rows(report: dict) -> Iterator[Sequence[object]]:
    yield ["promotion", report["label"], "from", report["from"], "to", report["to"]]
    yield CSV_FIELDS
    for name in ("exposed", "unexposed"):
        group = report[name]
        yield [name, *(group[key] for key in CSV_FIELDS[1:])]
    yield ["figure", "value", "low", "high"]
    for name in ("incremental_orders", "incremental_revenue_cents", "incremental_margin_cents"):
        figure = report[name]
        yield [name, figure["value"], figure["low"], figure["high"]]
    if report["roi"] is not None:
        yield ["roi", report["roi"]["value"], report["roi"]["low"], report["roi"]["high"]]
    for name, value in report["cost"].items():
        yield [f"cost_{name}", value]
    for name, value in report["opportunities"].items():
        yield [name, value]
    if report["sources"]:
        yield SOURCE_FIELDS
        for row in report["sources"]:
            yield [(row[key] or "") if key == "author" else row[key] for key in SOURCE_FIELDS]


ROLLUP_FIELDS = (
    "kind",
    "id",
    "label",
    "control",
    "reach",
    "participants",
    "exposed_orders",
    "exposed_revenue_cents",
    "unexposed_members",
    "unexposed_orders",
    "unexposed_revenue_cents",
    "incremental_orders",
    "incremental_orders_low",
    "incremental_orders_high",
    "incremental_revenue_cents",
    "incremental_revenue_low_cents",
    "incremental_revenue_high_cents",
    "cost_cents",
    "roi",
)


def rollup_csv(rollup: dict) -> str:
    """A merchant's roll-up as CSV: the period, then one line per promotion."""
    period: list[list] = [["from", rollup["from"], "to", rollup["to"]], list(ROLLUP_FIELDS)]
    return csv_text(period + [_rollup_values(row) for row in rollup["rows"]])


def admin_rollup_csv(rollup: dict) -> str:
    """Every merchant's roll-up as CSV: the period, then one line per promotion, each
    led by its merchant's name."""
    period: list[list] = [
        ["from", rollup["from"], "to", rollup["to"]],
        ["merchant", *ROLLUP_FIELDS],
    ]
    return csv_text(
        period
        + [
            [merchant["name"], *_rollup_values(row)]
            for merchant in rollup["merchants"]
            for row in merchant["rows"]
        ]
    )


def _rollup_values(row: dict) -> list:
    return ["" if row[key] is None else row[key] for key in ROLLUP_FIELDS]
