"""Recommendations: "For you" on the front page (threads, offers, events, chat rooms,
each with its reason) and "Suggested threads" under a thread, precomputed for everyone
by the periodic task ``recommend.recompute`` (``service.recompute``) into one table and
served by one indexed read. ``model`` is the recommender itself (item-to-item
co-occurrence), shared with the offline evaluation (``python -m tests.bench recommend``)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import views

    views.add_template_helpers(app)
