"""Recommendation endpoints: the caller's "For you" lists."""

from flask_login import current_user

from ..recommend import service
from ..recommend.schemas import dump_recommendations
from . import bp, responses
from .core import endpoints

endpoint = endpoints(bp, tag="recommend")


@endpoint("/me/recommendations", "GET", response=responses.Recommendations)
def my_recommendations():
    """The caller's recommendations (threads, offers, events, chat rooms), each with why; popular
    this week until the caller has a history"""
    return dump_recommendations(service.for_member(current_user))
