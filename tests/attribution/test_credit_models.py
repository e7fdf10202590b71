"""Time-decay and position-based (40/20/40) credit beside last, first and linear."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from forum.attribution.service.conversions import apportion, choose, credit_weights

AT = datetime(2026, 6, 1, tzinfo=UTC)


def click(n, source, hours_before):
    return SimpleNamespace(
        id=n, source_kind="post", source_id=source, created_at=AT - timedelta(hours=hours_before)
    )


def test_position_based_gives_forty_twenty_forty(app):
    with app.app_context():
        touches = [click(1, 1, 50), click(2, 2, 40), click(3, 3, 30), click(4, 4, 1)]
        chosen = choose(touches, "position")
        assert [c.id for c in chosen] == [1, 2, 3, 4]
        assert credit_weights(chosen, "position", AT) == [4000, 1000, 1000, 4000]
        assert credit_weights(chosen[:2], "position", AT) == [5000, 5000]
        assert credit_weights(chosen[:1], "position", AT) == [10000]
        assert credit_weights(chosen[:3], "position", AT) == [4000, 2000, 4000]


def test_time_decay_halves_a_touch_every_half_life(app):
    app.config["ATTRIBUTION_HALF_LIFE_HOURS"] = 24
    with app.app_context():
        touches = [click(1, 1, 48), click(2, 2, 24), click(3, 3, 0), click(4, 3, 30)]
        touches.sort(key=lambda c: c.created_at)  # touches_for gives them oldest first
        chosen = choose(touches, "decay")  # one per source: its latest click
        assert sorted(c.id for c in chosen) == [1, 2, 3]
        weights = credit_weights(sorted(chosen, key=lambda c: c.id), "decay", AT)
        assert sum(weights) == 10000
        assert weights == [1429, 2857, 5714]  # 1 : 2 : 4


def test_apportion_is_exact():
    assert apportion(1001, [4000, 2000, 4000]) == [401, 200, 400]
    assert sum(apportion(99, [1, 1, 1])) == 99
    assert apportion(0, [1, 2]) == [0, 0]
