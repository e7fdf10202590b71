"""The arithmetic of a comparison: a group's sums (members, buyers, orders and revenue
with their squares) and the incremental figure over strata with its 95% interval by the
normal approximation (see ``evaluation``'s docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.96


@dataclass
class Group:
    n: int = 0
    buyers: int = 0
    orders: float = 0.0
    orders_sq: float = 0.0
    revenue: float = 0.0
    revenue_sq: float = 0.0

    @classmethod
    def of(cls, n, buyers, orders, orders_sq, revenue, revenue_sq) -> Group:
        """From one of ``aggregate``'s rows (after its keys and stratum)."""
        return cls(
            int(n),
            int(buyers),
            float(orders or 0),
            float(orders_sq or 0),
            float(revenue or 0),
            float(revenue_sq or 0),
        )

    def add(self, other: Group, sign: int = 1) -> None:
        for name in ("n", "buyers", "orders", "orders_sq", "revenue", "revenue_sq"):
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))

    def minus(self, other: Group) -> Group:
        left = Group()
        left.add(self)
        left.add(other, -1)
        return left

    def mean(self, what: str) -> float:
        return getattr(self, what) / self.n if self.n else 0.0

    def variance(self, what: str) -> float:
        if self.n < 2:
            return 0.0
        total, squares = getattr(self, what), getattr(self, f"{what}_sq")
        return max(0.0, (squares - total * total / self.n) / (self.n - 1))


def lift(strata: dict[int, dict[str, Group]], what: str) -> dict[str, float]:
    """Incremental ``what`` (orders or revenue) over the strata with both groups, and its
    95% normal-approximation interval (see the module docstring)."""
    value = variance = 0.0
    for groups in strata.values():
        exposed, control = groups["exposed"], groups["control"]
        if not exposed.n or not control.n:
            continue
        value += exposed.n * (exposed.mean(what) - control.mean(what))
        variance += exposed.n**2 * (
            exposed.variance(what) / exposed.n + control.variance(what) / control.n
        )
    half = Z95 * math.sqrt(variance)
    return {"value": value, "low": value - half, "high": value + half}
