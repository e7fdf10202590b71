"""CSV text for downloads (attribution reports, promotion evaluations): one writer
set-up for every export, so each export only says which rows it has."""

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(rows: Iterable[Sequence[object]], *, lineterminator: str = "\r\n") -> str:
    """``rows`` as CSV text (None is an empty cell). Lines end in CRLF, the csv
    module's and RFC 4180's default, unless ``lineterminator`` says otherwise.

    Text that a spreadsheet would run as a formula (a shop or promotion named
    ``=HYPERLINK(...)``, read by the admin who opens the file) gets a leading
    apostrophe, as OWASP advises; numbers are left as they are."""
    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows(
        [_inert(cell) for cell in row] for row in rows
    )
    return out.getvalue()


def _inert(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
