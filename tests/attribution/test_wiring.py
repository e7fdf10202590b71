"""Attribution hears the rest of Plaza only through forum.signals, connected by init_app."""

import weakref

from forum import create_app, signals
from forum.attribution import hooks, views
from forum.promotions.service import snaps
from tests.conftest import base_config

CONNECTED = {
    signals.user_registered: hooks.registered,
    signals.post_created: hooks.post_created,
    signals.order_changed: hooks.order_changed,
    signals.team_joined: hooks.team_joined,
    signals.team_settled: hooks.team_settled,
    signals.signup_made: hooks.signup_made,
    signals.signup_released: hooks.signup_released,
    signals.profile_shown: views.posts_earned,
}


def _receivers(signal) -> list:
    return [ref() if isinstance(ref, weakref.ref) else ref for ref in signal.receivers.values()]


def test_create_app_connects_each_receiver_once_however_many_apps(app, database_uri):
    before = {signal: len(signal.receivers) for signal in CONNECTED}
    create_app(base_config(database_uri))  # a second app in the same process
    for signal, receiver in CONNECTED.items():
        assert receiver in _receivers(signal), signal.name
        assert len(signal.receivers) == before[signal], signal.name
    assert snaps.give_back in _receivers(signals.order_changed)
