"""Demo step: compute everyone's recommendations from the demo's history, so the front
page's "For you" is filled before the hourly task first runs."""

from . import service


def build(ctx) -> None:
    service.recompute()
