"""Generating a document's PDF in a worker thread, on the worker's own Store.

A village's agreements are rendered one household at a time and joined, so the progress bar
moves and 取消 takes effect between households; every other document is one render_document call.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from wq_desktop.printing.agreement import agreement_households
from wq_desktop.printing.catalog import document, render_document
from wq_desktop.store import Store

from ..workers import JobContext
from .pdf_pages import merge_pdfs
from .scopes import VILLAGE


@dataclass(frozen=True)
class PrintRequest:
    doc: str  # catalog key
    scope: str
    year: int
    village: str | None = None
    operator: str | None = None
    patrol: str | None = None

    @property
    def batch(self) -> bool:
        return self.doc == "agreement" and self.scope == VILLAGE


@dataclass(frozen=True)
class Generated:
    request: PrintRequest
    pdf: Path
    pages: int


def generate(store_path: Path, user: str, request: PrintRequest, out: Path,
             ctx: JobContext) -> Generated:
    name = document(request.doc).name
    with Store.open(store_path, user) as store:
        if request.batch:
            pages = _agreement_batch(store, request, out, ctx)
        else:
            ctx.progress(5, f"正在生成《{name}》…")
            pages = render_document(store, request.doc, year=request.year, village=request.village,
                                    operator=request.operator, patrol=request.patrol, out=out)
        ctx.progress(100, f"《{name}》已生成，共{pages}页")
    return Generated(request, out, pages)


def _agreement_batch(store: Store, request: PrintRequest, out: Path, ctx: JobContext) -> int:
    assert request.village
    households = agreement_households(store, request.year, village=request.village)
    parts: list[bytes] = []
    for n, household in enumerate(households):
        ctx.progress(n * 95 // len(households),
                     f"正在生成协议书：第{n + 1}份，共{len(households)}份（{household.name}）")
        buffer = io.BytesIO()
        render_document(store, "agreement", year=request.year, operator=household.uuid, out=buffer)
        parts.append(buffer.getvalue())
    ctx.check()
    return merge_pdfs(parts, out)
