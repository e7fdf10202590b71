"""Trust levels 0-4: what a member has earned by behaviour, and what it unlocks.

``service`` is the front: ``level_of`` and ``require_level`` are what other features
call before an act a newcomer may not do yet (links, images, mentions, DMs, commerce).
``init_app`` connects what counts towards a level: posts, likes and what the read beacon reports.
"""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from . import reading, views

    # Replies and likes count inside the poster's / liker's transaction, then re-evaluate.
    signals.post_created.connect(reading.on_post_created)
    signals.post_liked.connect(reading.on_post_liked)
    # Reading counts from the thread page's read beacon (a POST; GETs never write):
    # topics entered, posts read, minutes reading, the day visited.
    signals.thread_read.connect(reading.on_thread_read)
    # The profile shows the member's level (and, for the member, what the next one needs).
    signals.profile_shown.connect(reading.on_profile_shown)
    # Badges: likes and replies above, event check-ins and reviews here; shown on the profile.
    signals.signup_checked_in.connect(reading.on_checked_in)
    signals.review_changed.connect(reading.on_review_changed)
    signals.profile_shown.connect(reading.on_profile_badges)
    views.add_template_helpers(app)
