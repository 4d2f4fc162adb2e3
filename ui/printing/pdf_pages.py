"""PDF pages as images, through pdfium (pypdfium2): the preview and the printer both draw these.

pdfium is not thread-safe: every call into it, from the GUI thread (preview) or a worker
(merging a batch, printing), holds PDFIUM_LOCK.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium
from PySide6.QtGui import QImage

PDFIUM_LOCK = threading.RLock()
POINTS_PER_INCH = 72.0


@dataclass(frozen=True)
class PageSize:
    width_pt: float
    height_pt: float

    @property
    def landscape(self) -> bool:
        return self.width_pt > self.height_pt


def page_sizes(path: str | os.PathLike[str]) -> list[PageSize]:
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(os.fspath(path))
        try:
            return [PageSize(*doc.get_page_size(i)) for i in range(len(doc))]
        finally:
            doc.close()


def page_count(path: str | os.PathLike[str]) -> int:
    return len(page_sizes(path))


def render_page(path: str | os.PathLike[str], index: int, dpi: float) -> QImage:
    """Page `index` (0-based) at `dpi`, on white, as a QImage that owns its pixels."""
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(os.fspath(path))
        try:
            page = doc[index]
            try:
                bitmap = page.render(scale=dpi / POINTS_PER_INCH, rev_byteorder=True)
                try:
                    image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride,
                                   _qt_format(bitmap.n_channels))
                    return image.copy()  # the bitmap's memory is freed below
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            doc.close()


def _qt_format(channels: int) -> QImage.Format:
    if channels == 4:
        return QImage.Format.Format_RGBA8888
    if channels == 1:
        return QImage.Format.Format_Grayscale8
    return QImage.Format.Format_RGB888


def merge_pdfs(parts: Sequence[bytes], out: str | os.PathLike[str]) -> int:
    """Concatenate PDF documents (bytes) into `out`; returns the page count."""
    with PDFIUM_LOCK:
        merged = pdfium.PdfDocument.new()
        try:
            for data in parts:
                part = pdfium.PdfDocument(data)
                try:
                    merged.import_pages(part)
                finally:
                    part.close()
            merged.save(os.fspath(out))
            return len(merged)
        finally:
            merged.close()
