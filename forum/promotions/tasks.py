"""Promotion background tasks (scheduled in ``forum.tasks.beat_schedule``)."""

from collections.abc import Callable
from typing import Any

from celery import shared_task

from . import service


@shared_task(name="promotions.settle_teams")
def settle_teams() -> int:
    """Settle teams past their deadline; reads already show them settled without it."""
    return service.settle_due_teams()


@shared_task(name="promotions.finish_games")
def finish_games() -> int:
    """Settle closed guessing games and post ended auctions' results. Idempotent.

    Readers already show the price, the state and the winner from the tables and the
    clock; this places the winner's order, returns points and posts the results.
    """
    from .service import auctions, guessing
    from .service.common import one_by_one

    work: list[tuple[Callable[[Any], Any], Callable[[Any], Any], int]]
    work = [(guessing.get_game, guessing.settle_game, i) for i in guessing.due_games()]
    work += [(auctions.get_auction, auctions.finish, i) for i in auctions.due_auctions()]
    return one_by_one(work, lambda job: job[1](job[0](job[2])))


@shared_task(name="promotions.send_reminders")
def send_reminders() -> int:
    """Notify members whose "remind me" is due, each once (late runs still send once)."""
    return service.send_due_reminders()
