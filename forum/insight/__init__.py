"""Insight: community health for admins, computed by SQL over the other features'
tables through their service fronts (``service.community_health``)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to connect: insight only reads."""
