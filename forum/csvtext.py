"""CSV text for downloads (attribution reports, promotion evaluations): one writer
set-up for every export, so each export only says which rows it has."""

import csv
import io
from collections.abc import Iterable, Sequence


def csv_text(rows: Iterable[Sequence[object]], *, lineterminator: str = "\r\n") -> str:
    """``rows`` as CSV text (None is an empty cell). Lines end in CRLF, the csv
    module's and RFC 4180's default, unless ``lineterminator`` says otherwise."""
    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows(rows)
    return out.getvalue()
