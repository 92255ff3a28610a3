"""Download a page's tables as CSV (UTF-8 with BOM, so Excel shows Thai) or XLSX (one sheet
per table). Aggregates only: callers decide what may be exported."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from django.http import Http404, HttpResponse

Table = tuple[str, Sequence[Any], Sequence[Sequence[Any]]]  # title, header, rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def tables_response(tables: Sequence[Table], name: str, fmt: str) -> HttpResponse:
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        for title, head, rows in tables:
            w.writerow([title])
            w.writerow(head)
            w.writerows(rows)
            w.writerow([])
        resp = HttpResponse(buf.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        wb.remove(wb.active)  # type: ignore[arg-type]
        for title, head, rows in tables:
            ws = wb.create_sheet(title[:31])  # Excel's limit on sheet names
            ws.append(list(head))
            for r in rows:
                ws.append(list(r))
        out = io.BytesIO()
        wb.save(out)
        resp = HttpResponse(out.getvalue(), content_type=XLSX)
    else:
        raise Http404
    resp["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return resp
