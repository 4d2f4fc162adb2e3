"""三级汇总表: village → township → city, shown and downloaded (xlsx, PDF) exactly as printed.

The lines are `printing.summary_table.summary_lines` (the printed table's rounding), the files
come from the desktop's own writers (`excel.export_summary`, `catalog.render_summary`); a
township leader gets their township's table, as their own store prints it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from wq_desktop import excel
from wq_desktop.printing import catalog
from wq_desktop.printing.summary_table import COLUMNS, summary_table_data

from .frame import YearParam, default_year, page, township_scope, web_store
from .session import WebUser

KINDS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "pdf": "application/pdf"}


def _download(path: Path, name: str, kind: str) -> FileResponse:
    # RFC 5987: the Chinese file name as the browser saves it, an ASCII fallback for old ones.
    disposition = f"attachment; filename=summary.{kind}; filename*=UTF-8''{quote(name)}"
    return FileResponse(path, media_type=KINDS[kind], headers={"Content-Disposition": disposition},
                        background=BackgroundTask(path.unlink, missing_ok=True))


def install(app: FastAPI) -> None:
    @app.get("/web/summary")
    def summary_page(request: Request, user: WebUser, year: YearParam = None) -> Response:
        with web_store(request, user) as store:
            year = year or default_year(store)
            data = summary_table_data(store, year, None, township_scope(user))
        return page(request, "summary.html", user, year=year, data=data, columns=COLUMNS,
                    active="summary")

    @app.get("/web/summary.{kind}")
    def summary_file(request: Request, user: WebUser, kind: str, year: YearParam = None) -> Response:
        if kind not in KINDS:
            raise HTTPException(404, "只能下载 xlsx 或 PDF。")
        fd, name = tempfile.mkstemp(prefix="wq-summary-", suffix=f".{kind}")
        os.close(fd)
        target = Path(name)
        try:
            with web_store(request, user) as store:
                year = year or default_year(store)
                only = township_scope(user)
                title = summary_table_data(store, year, None, only).title
                if kind == "xlsx":
                    excel.export_summary(store, year, target, only_township=only)
                else:
                    catalog.render_summary(store, year=year, out=target, only_township=only)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return _download(target, f"{title}.{kind}", kind)
