"""CSV that a spreadsheet opens as data, never as formulas: the one writer every CSV export goes through.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (CSV injection: ``=HYPERLINK(...)``, ``=cmd|...``); such a cell is written
with a leading apostrophe, the usual neutraliser (OWASP), which the spreadsheet shows as text.
Numbers (int, float) are written as they are: ``-3`` stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` as a CSV cell; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document with every cell passed through :func:`safe_cell`: ``\\n`` line ends, text quoted
    (a carriage return inside a cell stays inside it), numbers bare."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([safe_cell(c) for c in header])
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return out.getvalue()
