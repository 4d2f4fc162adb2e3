"""Printing a generated PDF through Qt: each page is rendered at the printer's resolution (capped
at 300 dpi) and painted onto the whole sheet, so the document's own GB/T 9704 margins are kept."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from wq_desktop.errors import WqError

from ..workers import JobContext
from .pdf_pages import page_sizes, render_page

MAX_DPI = 300


class PrintError(WqError):
    """The printer could not be started or refused a page."""


def prepare_printer(printer: QPrinter, document_title: str) -> None:
    """A4, the whole sheet addressable (the PDF pages carry their own margins)."""
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setFullPage(True)
    printer.setDocName(document_title)


def print_pdf(pdf: Path, printer: QPrinter, ctx: JobContext | None = None) -> int:
    """Paint every page of `pdf` on `printer`; returns the number of pages sent.

    Cancelling (ctx) aborts the print job, so no half document comes out of the printer."""
    sizes = page_sizes(pdf)
    dpi = min(printer.resolution(), MAX_DPI)
    painter = QPainter()
    try:
        for index, size in enumerate(sizes):
            if ctx is not None:
                ctx.progress(index * 100 // len(sizes), f"正在打印第{index + 1}页，共{len(sizes)}页…")
            # A landscape page goes on a landscape sheet: the orientation is set before the
            # painter begins (first page) or before the next page is started.
            printer.setPageOrientation(QPageLayout.Orientation.Landscape if size.landscape
                                       else QPageLayout.Orientation.Portrait)
            if index == 0:
                if not painter.begin(printer):
                    raise PrintError("无法启动打印机，请检查打印机是否连接、是否选择了正确的打印机。")
            elif not printer.newPage():
                raise PrintError(f"打印机未能开始第{index + 1}页，打印已中止。")
            image = render_page(pdf, index, dpi)
            target = fit(QSizeF(image.width(), image.height()),
                         printer.paperRect(QPrinter.Unit.DevicePixel))
            painter.drawImage(target, image)
    except BaseException:
        if painter.isActive():
            printer.abort()
            painter.end()
        raise
    if painter.isActive():
        painter.end()
    return len(sizes)


def fit(source: QSizeF, area: QRectF) -> QRectF:
    """The largest rectangle with `source`'s aspect ratio, centred in `area`."""
    scaled = source.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    left = area.left() + (area.width() - scaled.width()) / 2
    top = area.top() + (area.height() - scaled.height()) / 2
    return QRectF(left, top, scaled.width(), scaled.height())
