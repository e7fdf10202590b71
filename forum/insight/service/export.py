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
