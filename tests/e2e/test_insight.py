"""Browser: an admin opens community health and sees the charts drawn and the cohort
heatmap, on a desktop and on a 390 px phone."""

import pytest

from tests.e2e.conftest import log_in
from tests.insight import journeys

community = journeys.community  # the fixture

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_sees_community_health_charts(live_server, new_page, make_user, community, width):
    admin = make_user("boss", role="admin")
    page = new_page(width, 900 if width > 500 else 844)
    log_in(page, live_server, admin.username, admin.password)
    page.goto(live_server("/admin/health?from=2026-03-02&to=2026-03-15"))
    page.wait_for_selector("canvas.ins-line[data-ready=true]")
    assert page.locator("canvas[data-ready=true]").count() == 6
    assert page.locator("[data-total=wau]").inner_text() == "5"
    assert page.locator("table[data-table=retention] td.heat").count() == 3
    assert page.console_errors == []
    if width == 390:  # nothing wider than the phone but the scrolling tables
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
