"""The README's settings table says what forum/config.py's one defaults table holds."""

import re
from pathlib import Path

from forum.config import Defaults

README = Path(__file__).resolve().parent.parent / "README.md"
# Settings the table documents whose defaults belong to a library (Flask-Mailman's
# mail port and login) or are Celery's own, passed through FORUM_CELERY__*.
NOT_OURS = re.compile(r"^(CELERY__|MAIL_(PORT|USE_TLS|USERNAME|PASSWORD)$)")


def _rows():
    for line in README.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`FORUM_"):
            continue
        names = re.findall(r"`FORUM_([A-Z0-9_]+)`", cells[0])
        yield names, cells[1]


def _shown(value) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_every_setting_in_the_readme_has_its_default_in_config():
    documented = [name for names, _ in _rows() for name in names]
    assert len(documented) > 30
    missing = [n for n in documented if not NOT_OURS.match(n) and not hasattr(Defaults, n)]
    assert missing == []


def test_the_readme_shows_the_defaults_config_has():
    wrong = []
    compared = 0
    for names, default in _rows():
        literal = re.fullmatch(r"`([^`]*)`(?: \(.*\))?", default)
        if default == "unset":
            shown = "unset"
        elif literal:
            shown = literal.group(1)
        else:  # "see config.py", "unset, `25`": described, not one value
            continue
        for name in names:
            if NOT_OURS.match(name) or name == "SQLALCHEMY_DATABASE_URI":
                continue  # the URI default is filled in from the instance folder
            compared += 1
            if _shown(getattr(Defaults, name)) != shown:
                wrong.append((name, shown, getattr(Defaults, name)))
    assert compared > 25
    assert wrong == []
