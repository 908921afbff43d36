"""CSV that a spreadsheet opens as data, never as formulas ("CSV injection", OWASP).

Every CSV the portal writes goes through ``csv_lines``, which passes every cell through
``safe_cell``: a text starting with ``= + - @``, a tab or a carriage return gets a leading ``'``,
which spreadsheets read as "this cell is text". A text already starting with ``'`` gets one too,
so that ``read_cell`` (used by the site import) removes exactly what the export added and an
export imports again unchanged, whatever the names hold.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_ESCAPED_START = (*FORMULA_START, QUOTE)


def safe_cell(value: object) -> str:
    """The cell's text, with a ``'`` in front when a spreadsheet would run it or it starts with
    ``'`` already (so that ``read_cell`` can tell the two apart)."""
    text = "" if value is None else str(value)
    return QUOTE + text if text.startswith(_ESCAPED_START) else text


def read_cell(cell: str) -> str:
    """The text ``safe_cell`` was given: its ``'`` removed where it added one. A ``'`` written by
    hand before ordinary text stays."""
    if len(cell) > 1 and cell[0] == QUOTE and cell[1:].startswith(_ESCAPED_START):
        return cell[1:]
    return cell


class _Line:
    """A file-like sink for ``csv.writer`` that hands back what it was given (for streaming)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Each row (the header included) as one CSV line, every cell through ``safe_cell``."""
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])
