"""A paged preview of a PDF: one page at a time at screen resolution, zoom, 第 x 页 / 共 y 页."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from .pdf_pages import page_count, render_page

ZOOMS = (50, 75, 100, 125, 150, 200)
DEFAULT_ZOOM = 75  # a whole A4 page fits a laptop screen


class PagePreview(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pdf: Path | None = None
        self.pages = 0
        self.page = 0  # 0-based
        self.image: QImage | None = None
        self.first_button = QPushButton("首页")
        self.previous_button = QPushButton("上一页")
        self.next_button = QPushButton("下一页")
        self.last_button = QPushButton("末页")
        self.page_label = QLabel()
        self.page_label.setObjectName("page_label")
        self.zoom = QComboBox()
        self.zoom.setObjectName("zoom")
        for z in ZOOMS:
            self.zoom.addItem(f"{z}%", z)
        self.zoom.setCurrentIndex(ZOOMS.index(DEFAULT_ZOOM))
        self.zoom_out_button = QPushButton("缩小")
        self.zoom_in_button = QPushButton("放大")
        self.first_button.clicked.connect(lambda: self.show_page(0))
        self.previous_button.clicked.connect(lambda: self.show_page(self.page - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self.page + 1))
        self.last_button.clicked.connect(lambda: self.show_page(self.pages - 1))
        self.zoom.currentIndexChanged.connect(lambda _i: self._render())
        self.zoom_out_button.clicked.connect(lambda: self._step_zoom(-1))
        self.zoom_in_button.clicked.connect(lambda: self._step_zoom(1))

        self.canvas = QLabel()
        self.canvas.setObjectName("page_canvas")
        self.canvas.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # grey around the page, as in every PDF viewer, so the sheet's edge is visible
        self.canvas.setStyleSheet("QLabel#page_canvas { background: #8a8a8a; color: white; }")

        bar = QHBoxLayout()
        for w in (self.first_button, self.previous_button, self.page_label, self.next_button,
                  self.last_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(QLabel("缩放："))
        for w in (self.zoom_out_button, self.zoom, self.zoom_in_button):
            bar.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)
        self.clear("尚未生成预览。")

    @property
    def zoom_percent(self) -> int:
        return int(self.zoom.currentData())

    def set_pdf(self, pdf: Path) -> None:
        self.pdf = pdf
        self.pages = page_count(pdf)
        self.page = 0
        self._render()

    def clear(self, message: str = "") -> None:
        self.pdf, self.pages, self.page, self.image = None, 0, 0, None
        self.canvas.setPixmap(QPixmap())
        self.canvas.setText(message)
        self._update_controls()

    def show_page(self, page: int) -> None:
        if self.pdf is None or not 0 <= page < self.pages or (page == self.page and self.image):
            return
        self.page = page
        self._render()

    def _step_zoom(self, step: int) -> None:
        self.zoom.setCurrentIndex(max(0, min(len(ZOOMS) - 1, self.zoom.currentIndex() + step)))

    def _render(self) -> None:
        if self.pdf is None:
            return
        dpi = self.logicalDpiX() * self.zoom_percent / 100
        self.image = render_page(self.pdf, self.page, dpi)
        pixmap = QPixmap.fromImage(self.image)
        self.canvas.setText("")
        self.canvas.setPixmap(pixmap)
        self._update_controls()

    def _update_controls(self) -> None:
        has = self.pdf is not None
        self.page_label.setText(f"第 {self.page + 1} 页 / 共 {self.pages} 页" if has else "第 - 页 / 共 0 页")
        self.first_button.setEnabled(has and self.page > 0)
        self.previous_button.setEnabled(has and self.page > 0)
        self.next_button.setEnabled(has and self.page < self.pages - 1)
        self.last_button.setEnabled(has and self.page < self.pages - 1)
        for w in (self.zoom, self.zoom_in_button, self.zoom_out_button):
            w.setEnabled(has)
