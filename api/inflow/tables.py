"""Every table of the inflow page and the council's report as CSV, for a spreadsheet.

UTF-8 with a byte-order mark, so Excel shows Cyrillic names right; comma separated, a decimal
point, and text cells that could run as a formula written as text (api/spreadsheet.py).
Columns have fixed English names, so a sheet built on them works in any page language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from fastapi.responses import Response

from api.spreadsheet import neutralise

__all__ = ["csv_response", "csv_text", "tonnes"]


def tonnes(kg: int) -> str:
    """Kilograms as tonnes with three decimals, exact (no float)."""
    sign = "-" if kg < 0 else ""
    return f"{sign}{abs(kg) // 1000}.{abs(kg) % 1000:03d}"


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The rows as CSV text under the header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(c) if isinstance(c, str) else c for c in row])
    return out.getvalue()


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Response:
    """A CSV download (``filename`` is ours: letters, digits, dashes and dots)."""
    return Response(
        ("\ufeff" + csv_text(header, rows)).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
