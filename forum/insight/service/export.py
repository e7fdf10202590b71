"""Evaluations as CSV: one promotion's report, and a roll-up of many promotions."""

from __future__ import annotations

import csv
import io

CSV_FIELDS = ("group", "members", "buyers", "orders", "revenue_cents", "orders_per_member")


def to_csv(report: dict) -> str:
    """The evaluation as CSV: the two groups, the lift, costs, and the per-source table."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["promotion", report["label"], "from", report["from"], "to", report["to"]])
    writer.writerow(CSV_FIELDS)
    for name in ("exposed", "unexposed"):
        group = report[name]
        writer.writerow([name, *(group[key] for key in CSV_FIELDS[1:])])
    writer.writerow(["figure", "value", "low", "high"])
    for name in ("incremental_orders", "incremental_revenue_cents", "incremental_margin_cents"):
        figure = report[name]
        writer.writerow([name, figure["value"], figure["low"], figure["high"]])
    if report["roi"] is not None:
        writer.writerow(
            ["roi", report["roi"]["value"], report["roi"]["low"], report["roi"]["high"]]
        )
    for name, value in report["cost"].items():
        writer.writerow([f"cost_{name}", value])
    for name, value in report["opportunities"].items():
        writer.writerow([name, value])
    if report["sources"]:
        writer.writerow(
            [
                "source_kind",
                "source_id",
                "author",
                "reach",
                "clickers",
                "buyers",
                "orders",
                "revenue_cents",
            ]
        )
        for row in report["sources"]:
            writer.writerow(
                [
                    row["source_kind"],
                    row["source_id"],
                    row["author"] or "",
                    row["reach"],
                    row["clickers"],
                    row["buyers"],
                    row["orders"],
                    row["revenue_cents"],
                ]
            )
    return out.getvalue()


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
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["from", rollup["from"], "to", rollup["to"]])
    writer.writerow(ROLLUP_FIELDS)
    for row in rollup["rows"]:
        writer.writerow(["" if row[key] is None else row[key] for key in ROLLUP_FIELDS])
    return out.getvalue()


def admin_rollup_csv(rollup: dict) -> str:
    """Every merchant's roll-up as CSV: the period, then one line per promotion, each
    led by its merchant's name."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["from", rollup["from"], "to", rollup["to"]])
    writer.writerow(["merchant", *ROLLUP_FIELDS])
    for merchant in rollup["merchants"]:
        for row in merchant["rows"]:
            values = ["" if row[key] is None else row[key] for key in ROLLUP_FIELDS]
            writer.writerow([merchant["name"], *values])
    return out.getvalue()
