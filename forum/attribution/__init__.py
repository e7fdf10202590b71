"""Attribution: tracked links, clicks, conversions, commission, author rewards, payouts.

Rooms: ``service`` (the ledger's rules, one package behind one front module),
``offers`` (the table of offer kinds: who pays, what it is called), ``hooks`` (the
receivers of other features' signals), ``links``, ``impressions``, ``reports``,
``views``, ``schemas``, ``demo``, ``tasks``.

``init_app`` is the one place attribution is wired to the rest of Plaza: the
signals of ``forum.signals`` it listens to (and answers: a widget's tracked link,
the profile line) and flask-login's login. Nothing connects by being imported.
"""

from flask import Flask
from flask_login import user_logged_in

from .. import signals


def init_app(app: Flask) -> None:
    from . import hooks, impressions, links, service, views

    # Connecting the same module function twice has no effect (tests build many apps).
    signals.user_registered.connect(hooks.registered)
    signals.post_created.connect(hooks.post_created)
    signals.email_verified.connect(hooks.email_verified)
    signals.order_changed.connect(hooks.order_changed)
    signals.team_joined.connect(hooks.team_joined)
    signals.team_settled.connect(hooks.team_settled)
    signals.signup_made.connect(hooks.signup_made)
    signals.signup_released.connect(hooks.signup_released)
    signals.profile_shown.connect(views.posts_earned)
    user_logged_in.connect(service.claim_on_login)
    signals.widget_link.connect(links.build_href)
    signals.widgets_shown.connect(impressions.collect)
