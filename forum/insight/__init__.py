"""Insight: community health for admins and promotion evaluation, computed by SQL over
the other features' tables through their service fronts (``service.community_health``,
``service.evaluate``)."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    """Insight only reads, except the members' first sights of widgets it records."""
    from . import service

    signals.widgets_shown.connect(service.collect_exposures)
