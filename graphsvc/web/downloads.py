"""CSV downloads from the pages: formula-safe cells, a plain file name, and an audit entry each.

Every download is recorded in the audit log (``download <file name>``, with
the page's filters and the number of rows), as the issue of the web's door
asks: a download takes data out of the practice, like an export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response
from flask_login import current_user

from ..csvio.format import to_cell
from . import auth


def csv_download(filename: str, columns: Sequence[str], rows: Iterable[dict], *,
                 filters: dict | None = None) -> Response:
    """``rows`` (dicts) as a CSV attachment with ``columns`` as its header, recorded in the audit log.

    Cells go through ``csvio.format.to_cell``: a value a spreadsheet would run as
    a formula (``=``, ``+``, ``-``, ``@`` first) gets a ``'`` in front, lists are
    joined with ``;`` and dates are ISO 8601.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([to_cell(row.get(c)) for c in columns])
        count += 1
    auth.record(f"download {filename}", user=current_user.username,
                detail={"filters": {k: v for k, v in (filters or {}).items() if v not in (None, "")},
                        "rows": count})
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # mental-health data: no copy in a shared cache
    return response
