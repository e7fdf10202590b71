"""Who may watch an event's live room: ``event:<id>`` (seats left) is public like the
event page; ``event:<id>:door`` (check-ins as they happen) is for the host.

Connected to ``signals.room_watch_allowed`` for ``event`` in ``forum.events.init_app``."""


def may_watch_event(kind: str, *, user, rest: str) -> bool:
    from ..extensions import db
    from . import service
    from .models import Event

    event_id, _, channel = rest.partition(":")
    if not event_id.isdigit() or len(event_id) > 12:
        return False
    event = db.session.get(Event, int(event_id))
    if event is None:
        return False
    if channel == "":
        return True
    if channel == "door":
        return service.is_host(user, event)
    return False
