"""Impressions: one counter row per (day, post, widget), once per viewer per day, batched."""

from datetime import timedelta

import pytest

from forum.attribution import impressions
from forum.attribution.models import ImpressionCount, ImpressionSeen
from forum.extensions import db
from tests.attribution.conftest import BROWSER, START, reply_with_offer
from tests.conftest import login


def counts(app) -> dict:
    with app.app_context():
        rows = db.session.scalars(db.select(ImpressionCount)).all()
        return {(r.day.isoformat(), r.source_id, r.embed_id): r.count for r in rows}


@pytest.fixture
def page(app, make_user, offers, post_with_offer):
    """A thread with three posts, each holding a widget; returns (path, post ids, offer ids, merchant)."""
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    first, second = offers.add(merchant, "Kettle"), offers.add(merchant, "Toaster")
    post_ids = [post_with_offer(author, first)]
    post_ids.append(reply_with_offer(app, author, 1, second))
    post_ids.append(reply_with_offer(app, author, 1, first))
    return "/t/1", post_ids, (first, second), merchant


def test_each_widget_counts_once_per_viewer_per_day(app, page, make_user, clock):
    path, post_ids, (first, second), merchant = page
    clock.at(START)
    reader = app.test_client()
    assert reader.get(path, headers=BROWSER).status_code == 200
    day = START.date().isoformat()
    assert counts(app) == {
        (day, post_ids[0], first): 1,
        (day, post_ids[1], second): 1,
        (day, post_ids[2], first): 1,
    }
    reader.get(path, headers=BROWSER)  # a reload is the same viewer
    assert set(counts(app).values()) == {1}
    app.test_client().get(path, headers=BROWSER)  # same IP and browser, no cookie: the same viewer
    member = app.test_client()
    login(member, make_user("reader"))
    member.get(path, headers=BROWSER)
    member.get(path, headers=BROWSER)
    assert counts(app)[(day, post_ids[0], first)] == 2
    clock.at(START + timedelta(days=1))
    member.get(path, headers=BROWSER)
    next_day = (START + timedelta(days=1)).date().isoformat()
    assert counts(app)[(next_day, post_ids[0], first)] == 1
    with app.app_context():
        row = db.session.scalar(
            db.select(ImpressionCount).where(ImpressionCount.source_id == post_ids[1])
        )
        assert (row.source_kind, row.embed_kind, row.merchant_id) == (
            "post",
            "product",
            merchant.id,
        )


def test_anonymous_viewers_with_an_attribution_cookie_are_told_apart(app, page, clock):
    from tests.attribution.conftest import click, tracked_href

    path, post_ids, (first, _), _ = page
    clock.at(START)
    one, two = app.test_client(), app.test_client()
    click(two, tracked_href(app, post_ids[0], first))  # gives ``two`` a visitor cookie
    one.get(path, headers=BROWSER)
    two.get(path, headers=BROWSER)
    assert counts(app)[(START.date().isoformat(), post_ids[0], first)] == 2


def test_bots_and_non_pages_are_not_counted(app, page):
    path, *_ = page
    client = app.test_client()
    client.get(path, headers={"User-Agent": "Mozilla/5.0 (compatible; bingbot/2.0)"})
    client.get(path, headers={"User-Agent": ""})
    client.get("/api/v1/threads/1", headers=BROWSER)  # the API lists hrefs, shows nothing
    client.get(path + "?page=9", headers=BROWSER)  # a 404
    assert counts(app) == {}


def test_switching_counting_off(app, page):
    path, *_ = page
    app.config["ATTRIBUTION_IMPRESSIONS_ENABLED"] = False
    app.test_client().get(path, headers=BROWSER)
    assert counts(app) == {}
    app.config["ATTRIBUTION_IMPRESSIONS_ENABLED"] = True
    app.test_client().get(path, headers=BROWSER)
    assert sum(counts(app).values()) == 3


def _attribution_statements(statements):
    return [s for s in statements if "attr_impression" in s]


def test_a_page_costs_a_fixed_number_of_statements_however_many_widgets(
    app, page, make_user, count_queries, on_postgres
):
    path, post_ids, (first, second), merchant = page
    app.test_client().get("/login")  # the site's name and logo are read once, then kept
    with count_queries() as few:
        assert app.test_client().get(path, headers=BROWSER).status_code == 200
    with count_queries() as again:
        assert app.test_client().get(path, headers=BROWSER).status_code == 200
    for n in range(12):
        reply_with_offer(app, make_user(f"writer{n}"), 1, first if n % 2 else second)
    other = {**BROWSER, "User-Agent": "Other browser/1.0"}
    with count_queries() as many:
        assert app.test_client().get(path, headers=other).status_code == 200
    with count_queries() as many_again:
        assert app.test_client().get(path, headers=other).status_code == 200
    # PostgreSQL: one statement does it all; else read the seen-set, insert the unseen,
    # one batched upsert
    new_viewer = 1 if on_postgres else 3
    repeat_viewer = 0  # this process stored those digests: nothing to ask
    assert len(_attribution_statements(few)) == len(_attribution_statements(many)) == new_viewer
    assert (
        len(_attribution_statements(again))
        == len(_attribution_statements(many_again))
        == repeat_viewer
    )
    assert len(many) == len(few)
    assert sum(counts(app).values()) == 3 + 15


def test_a_viewer_counted_by_another_process_costs_one_read_and_counts_once(
    app, page, make_user, count_queries, on_postgres, clock
):
    path, post_ids, (first, _), _ = page
    clock.at(START)
    app.test_client().get(path, headers=BROWSER)
    app.extensions[impressions._SEEN_HERE_KEY].clear()  # as if another server had counted
    with count_queries() as statements:
        app.test_client().get(path, headers=BROWSER)
    assert len(_attribution_statements(statements)) == 1
    with count_queries() as statements:
        app.test_client().get(path, headers=BROWSER)
    assert _attribution_statements(statements) == []  # remembered from that read
    member = app.test_client()  # a new viewer is still counted, on a page partly known
    login(member, make_user("reader"))
    member.get(path, headers=BROWSER)
    reply_with_offer(app, make_user("late"), 1, first)
    member.get(path, headers=BROWSER)  # only the new widget is new to this viewer
    day = START.date().isoformat()
    assert counts(app)[(day, post_ids[0], first)] == 2
    assert sum(counts(app).values()) == 3 + 3 + 1


def test_the_remembered_seen_set_is_bounded_and_only_holds_committed_digests(
    app, page, monkeypatch
):
    path, *_ = page
    monkeypatch.setattr(impressions, "SEEN_HERE_MAX", 2)
    app.test_client().get(path, headers=BROWSER)
    here = app.extensions[impressions._SEEN_HERE_KEY]
    assert len(here) == 3
    app.test_client().get(path, headers={**BROWSER, "User-Agent": "Other browser/1.0"})
    assert len(here) == 3  # over the bound: started over with the last page's three

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    working = impressions._count
    monkeypatch.setattr(impressions, "_count", broken)
    app.test_client().get(path, headers={**BROWSER, "User-Agent": "Third browser/1.0"})
    assert len(here) == 3  # nothing remembered from a count that did not happen
    monkeypatch.setattr(impressions, "_count", working)
    app.test_client().get(path, headers={**BROWSER, "User-Agent": "Third browser/1.0"})
    assert sum(counts(app).values()) == 9  # the failed page's viewer is counted on the next


def test_a_failure_while_counting_never_breaks_the_page(app, page, monkeypatch):
    path, *_ = page

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(impressions, "count", broken)
    response = app.test_client().get(path, headers=BROWSER)
    assert response.status_code == 200 and b"Kettle" in response.data


def test_the_seen_set_is_pruned_but_the_counts_stay(app, page, clock):
    path, *_ = page
    clock.at(START)
    app.test_client().get(path, headers=BROWSER)
    clock.at(START + timedelta(days=3))
    with app.app_context(), app.test_request_context("/"):
        assert impressions.prune_seen() == 3
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(ImpressionSeen)) == 0
    assert sum(counts(app).values()) == 3


@pytest.mark.redis
def test_with_redis_the_seen_set_lives_there(app, page, redis_url, count_queries):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    app.config["ATTRIBUTION_REDIS_URL"] = redis_url
    path, post_ids, (first, _), _ = page
    client = app.test_client()
    with count_queries() as statements:
        client.get(path, headers=BROWSER)
    client.get(path, headers=BROWSER)
    assert len(_attribution_statements(statements)) == 1  # only the counter upsert
    assert sum(counts(app).values()) == 3
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ImpressionSeen)) == 0
    keys = redis.Redis.from_url(redis_url).keys("plaza:attr:seen:*")
    assert len(keys) == 3
    assert all(
        0 < redis.Redis.from_url(redis_url).ttl(k) <= impressions.SEEN_TTL_SECONDS for k in keys
    )


def test_concurrent_pages_count_exactly(app, page):
    """Eight viewers (each twice, at once) on their own connections: every widget counts 8."""
    import threading
    from datetime import date

    from forum.embeds import EmbedContext

    _, post_ids, (first, second), merchant = page
    shown = {
        ("post", post_ids[0], "product", first): EmbedContext("post", post_ids[0], 2),
        ("post", post_ids[1], "product", second): EmbedContext("post", post_ids[1], 2),
    }
    owners = dict.fromkeys(shown, merchant.id)
    viewers = [f"u{n}" for n in range(8)] * 2
    barrier = threading.Barrier(len(viewers))
    errors = []

    def view(viewer):
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                impressions.count(shown, owners, viewer, date(2026, 3, 2))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=view, args=(v,)) for v in viewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert counts(app) == {
        ("2026-03-02", post_ids[0], first): 8,
        ("2026-03-02", post_ids[1], second): 8,
    }
