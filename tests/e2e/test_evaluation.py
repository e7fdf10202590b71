"""Browser: a merchant opens a snap-up's evaluation and sees exposed vs unexposed with the
chart drawn, on a desktop and on a 390 px phone."""

import pytest

from tests.e2e.conftest import log_in
from tests.insight import evaluation_journeys

journeys = evaluation_journeys.journeys  # the fixture

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_merchant_sees_a_snap_ups_evaluation(live_server, new_page, journeys, width):
    shop = journeys["shop"]
    page = new_page(width, 900 if width > 500 else 844)
    log_in(page, live_server, shop.user.username, shop.user.password)
    page.goto(live_server("/merchant/evaluation"))
    # The roll-up lists the widest reach first: the snap-up (its link carries the period).
    page.get_by_role("link", name="Evaluate").first.click()
    page.goto(page.url.split("?")[0] + "?from=2026-03-02&to=2026-03-15")
    page.wait_for_selector("canvas.ins-bar[data-ready=true]")
    assert page.get_by_role("heading", name="Exposed vs unexposed").is_visible()
    rows = page.locator("table[data-table=groups] tbody tr")
    assert rows.nth(0).inner_text().lower().split("\t")[:4] == ["exposed", "4", "2", "3"]
    assert rows.nth(1).inner_text().lower().split("\t")[:4] == ["unexposed", "5", "2", "2"]
    assert page.locator("[data-total=incremental-orders]").inner_text() == "2.0"
    assert page.console_errors == []
    page.screenshot(path=f"test-artifacts/evaluation-{width}.png", full_page=True)
    if width == 390:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0


@pytest.mark.parametrize("width", [1280, 390])
def test_merchant_rollup_has_its_chart_and_fits_a_phone(live_server, new_page, journeys, width):
    """The roll-up draws its chart; at 390 px its table stacks into rows (no sideways
    scroll) and still says each promotion's reach."""
    shop = journeys["shop"]
    page = new_page(width, 900 if width > 500 else 844)
    log_in(page, live_server, shop.user.username, shop.user.password)
    page.goto(live_server("/merchant/evaluation?from=2026-03-02&to=2026-03-15"))
    page.wait_for_selector("canvas.ins-bar[data-ready=true]")
    row = page.locator(f"tr[data-promotion=snap-{journeys['snap']}]")
    assert row.locator("td[data-label=Reach]").inner_text() == "4"
    assert page.get_by_role("link", name="CSV").is_visible()
    assert page.console_errors == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    if width == 390:
        table = page.locator("table[data-table=rollup]")
        assert table.evaluate("t => t.scrollWidth <= t.clientWidth")
        assert page.locator("table[data-table=rollup] thead").bounding_box()["height"] <= 1
    page.screenshot(path=f"test-artifacts/evaluation-rollup-{width}.png", full_page=True)
