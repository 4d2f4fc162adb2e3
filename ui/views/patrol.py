"""One patrol visit: stage, date, patrollers, parcel, findings, result, photos, and the
rectification it may order (deadline, notice and signature, recheck, closing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import photos
from wq_desktop.errors import WqError
from wq_desktop.model import (
    GROUND_STATES,
    IRRIGATION_SIGNS,
    RECT_SIGNATURES,
    RECTIFICATION_ACTIONS,
    WELL_STATES,
    PatrolResult,
    PatrolStage,
)
from wq_desktop.operations import Changes
from wq_desktop.operations import patrols as patrol_ops
from wq_desktop.queries.household import photos_of
from wq_desktop.rules import patrols
from wq_desktop.schema import KINDS
from wq_desktop.store import Store

from ..operations import run_op
from ..widgets import (
    ERROR_STYLE,
    DateEdit,
    ErrorLabel,
    OptionalDate,
    fit_to_screen,
    save_cancel_buttons,
    scrolling,
)

_PATROL = KINDS["patrol"]
PHOTO_FILTER = "图片 (*.jpg *.jpeg *.png *.heic *.tif *.tiff *.bmp);;所有文件 (*)"
THUMB = 128


@dataclass
class PhotoEntry:
    path: Path
    info: photos.PhotoInfo | None  # None for a stored photo whose details come from its record
    record: dict[str, Any] | None = None  # set for photos already attached
    data: bytes | None = None  # a stored photo's plain bytes (its file may be encrypted)

    @property
    def taken_at(self) -> str | None:
        return self.record["taken_at"] if self.record else (self.info.taken_at if self.info else None)

    @property
    def position(self) -> tuple[float, float] | None:
        source: Any = self.record if self.record else self.info
        if source is None:
            return None
        lat = source["lat"] if self.record else source.lat
        lon = source["lon"] if self.record else source.lon
        return (lat, lon) if lat is not None and lon is not None else None

    def caption(self) -> str:
        when = self.taken_at.replace("T", " ")[:16] if self.taken_at else "无拍摄时间"
        where = self.position
        place = f"{where[0]:.5f}, {where[1]:.5f}" if where else "无位置信息"
        return f"{when}\n{place}"


class PhotoStrip(QListWidget):
    """Thumbnails with the EXIF time and place; photos can be dropped onto it."""

    def __init__(self, error: ErrorLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error = error
        self.entries: list[PhotoEntry] = []
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setAcceptDrops(True)
        self.setDragDropMode(QListWidget.DragDropMode.DropOnly)
        self.setMinimumHeight(THUMB + 60)
        self.setToolTip("把照片拖到这里，或点“添加照片…”")

    def _add_item(self, entry: PhotoEntry) -> None:
        pixmap = QPixmap()
        if entry.data is not None:
            pixmap.loadFromData(entry.data)
        else:
            pixmap.load(str(entry.path))
        icon = QIcon()
        if not pixmap.isNull():
            icon = QIcon(pixmap.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation))
        item = QListWidgetItem(icon, entry.caption())
        item.setToolTip(entry.record["file_name"] if entry.record else entry.path.name)
        self.addItem(item)
        self.entries.append(entry)

    def add_stored(self, store: Store, record: dict[str, Any]) -> None:
        sha = record["sha256"]
        try:
            data = photos.photo_bytes(store, sha) if photos.has_photo(store, sha) else None
        except WqError:
            data = None  # a damaged file shows as a blank thumbnail with its caption
        self._add_item(PhotoEntry(photos.photo_path(store, sha), None, record, data))

    def add_file(self, path: Path) -> bool:
        """Check the file is a photo (reading its EXIF) and stage it; False with a message if not."""
        try:
            info = photos.read_photo(path)
        except WqError as err:
            self.error.show_error(str(err))
            return False
        if any((e.info and e.info.sha256 == info.sha256) or (e.record and e.record["sha256"] == info.sha256)
               for e in self.entries):
            self.error.show_error(f"照片 {path.name} 已添加过。")
            return False
        self.error.show_error(None)
        self._add_item(PhotoEntry(path, info))
        return True

    def staged(self) -> list[PhotoEntry]:
        return [e for e in self.entries if e.record is None]

    def remove_row(self, row: int) -> PhotoEntry:
        self.takeItem(row)
        return self.entries.pop(row)

    # drag and drop of files from the explorer
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if not urls:
            super().dropEvent(event)
            return
        for url in urls:
            self.add_file(Path(url.toLocalFile()))
        event.acceptProposedAction()


def split_names(text: str) -> list[str]:
    return patrols.patrol_people(text, None)


class PatrolDialog(QDialog):
    """Create or edit one patrol; the photos are attached in the same transaction as the visit."""

    def __init__(self, store: Store, parcels: list[tuple[str, str]], year: int, patrol: str | None = None,
                 default_patroller: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.year, self.patrol = store, year, patrol
        record = store.get("patrol", patrol) if patrol else None
        self.rev = record["rev"] if record else None
        # A visit belongs to the work year it was opened in (春播 of next spring still checks this year).
        self.record_year: int = record["year"] if record else year
        self.setWindowTitle("编辑巡查记录" if record else "新增巡查记录")
        fit_to_screen(self, 760, 720)
        self.errors: dict[str, ErrorLabel] = {}
        self.checks: dict[str, dict[str, QCheckBox]] = {}
        form = QFormLayout()
        self.stage = QComboBox()
        self.stage.addItems([s.value for s in PatrolStage])
        self._row(form, "stage", self.stage)
        self.visited_on = DateEdit(date.today())
        self.visited_on.setObjectName("patrol_date")
        self._row(form, "visited_on", self.visited_on)
        # Left empty so the 至少两人 hint shows; the signed-in user is offered, not typed in for them.
        self.patrollers = QLineEdit()
        self.patrollers.setObjectName("patrol_patrollers")
        who = f"，如 {default_patroller}、李四" if default_patroller else "，如 张三、李四"
        self.patrollers.setPlaceholderText(f"至少两人（陪同人也算），用顿号分隔{who}")
        self._row(form, "patrollers", self.patrollers)
        self.escort = QLineEdit()
        self.escort.setObjectName("patrol_escort")
        self.escort.setPlaceholderText("村里陪同的人，计入巡查人数")
        self._row(form, "escort", self.escort)
        self.people = QLabel()
        self.people.setObjectName("patrol_people")
        form.addRow("", self.people)
        self.parcel = QComboBox()
        self.parcel.setObjectName("patrol_parcel")
        for uuid, label in parcels:
            self.parcel.addItem(label, uuid)
        self._row(form, "parcel", self.parcel)
        for name, options in (("ground_state", GROUND_STATES), ("irrigation_signs", IRRIGATION_SIGNS),
                              ("well_state", WELL_STATES)):
            self._row(form, name, self._check_row(name, options))
        self.meter = QLineEdit()
        self.meter.setPlaceholderText("可不填")
        self._row(form, "meter_reading", self.meter)
        self.verdict = QComboBox()
        self.verdict.setObjectName("patrol_result")
        self.verdict.addItems([r.value for r in PatrolResult])
        self._row(form, "result", self.verdict)
        self.description = QPlainTextEdit()
        self.description.setMaximumHeight(60)
        self._row(form, "description", self.description)

        self.rect_box = QGroupBox("下达整改")
        self.rect_box.setCheckable(True)
        self.rect_box.setChecked(False)
        rect = QFormLayout(self.rect_box)
        self.rect_requirement = QLineEdit()
        self._row(rect, "rect_requirement", self.rect_requirement)
        self.rect_deadline = DateEdit(self.visited_on.value())
        self.rect_deadline.setObjectName("rect_deadline")
        self._row(rect, "rect_deadline", self.rect_deadline)
        self.rect_notified_on = OptionalDate("已下达")
        self._row(rect, "rect_notified_on", self.rect_notified_on)
        self.rect_signature = QComboBox()
        self.rect_signature.addItem("")  # not yet known, e.g. the notice is still to be delivered
        self.rect_signature.addItems(RECT_SIGNATURES)
        self._row(rect, "rect_signature", self.rect_signature)
        self.rect_responsible = QLineEdit()
        self._row(rect, "rect_responsible", self.rect_responsible)
        self.rect_action = QComboBox()
        self.rect_action.addItem("")
        self.rect_action.addItems(RECTIFICATION_ACTIONS)
        self._row(rect, "rect_action", self.rect_action)
        self.recheck_on = OptionalDate("已复查")
        self._row(rect, "recheck_on", self.recheck_on)
        self.recheck_result = QLineEdit()
        self._row(rect, "recheck_result", self.recheck_result)
        self.closed_on = OptionalDate("已结案")
        self._row(rect, "closed_on", self.closed_on)

        self.photo_error = ErrorLabel()
        self.photo_strip = PhotoStrip(self.photo_error)
        self.add_photo_button = QPushButton("添加照片…")
        self.remove_photo_button = QPushButton("移除所选照片")
        self.add_photo_button.clicked.connect(self.choose_photos)
        self.remove_photo_button.clicked.connect(self.remove_photo)
        photo_box = QGroupBox("现场照片（拖入或点“添加照片…”，时间与位置取自照片EXIF）")
        photo_layout = QVBoxLayout(photo_box)
        photo_layout.addWidget(self.photo_strip)
        photo_buttons = QHBoxLayout()
        photo_buttons.addWidget(self.add_photo_button)
        photo_buttons.addWidget(self.remove_photo_button)
        photo_buttons.addStretch(1)
        photo_layout.addLayout(photo_buttons)
        photo_layout.addWidget(self.photo_error)

        self.general = ErrorLabel()
        self.removed_photos: list[dict[str, Any]] = []  # stored photos deleted when 保存 is pressed
        content = QWidget()
        inner = QVBoxLayout(content)
        columns = QHBoxLayout()
        left = QWidget()
        left.setLayout(form)
        columns.addWidget(left, 3)
        columns.addWidget(self.rect_box, 2)
        inner.addLayout(columns)
        inner.addWidget(photo_box)
        layout = QVBoxLayout(self)
        layout.addWidget(scrolling(content), 1)  # a small or scaled screen scrolls; 保存 stays in view
        layout.addWidget(self.general)
        layout.addWidget(save_cancel_buttons(self))
        if record:
            self._load(record)
        self._visited = self.visited_on.value()
        self._follow_visit(self._visited)
        self.visited_on.dateChanged.connect(self._follow_visit)
        for edit in (self.patrollers, self.escort):
            edit.textChanged.connect(self._count_people)
        self._count_people()
        # Connected after loading: a stored violation keeps what was saved with it.
        self.verdict.currentTextChanged.connect(self._verdict_changed)

    # ------------------------------------------------------------ building
    def _row(self, form: QFormLayout, name: str, widget: QWidget) -> None:
        f = _PATROL.field(name)
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(widget)
        self.errors[name] = ErrorLabel()
        column.addWidget(self.errors[name])
        form.addRow(f.label + ("＊" if f.required else ""), box)
        self._clear_on_edit(name, widget)

    def _clear_on_edit(self, name: str, widget: QWidget) -> None:
        """A field's red message goes as soon as the user changes that field (it is checked again
        on 保存), so a fixed field never keeps a stale complaint."""
        clear = lambda *_args, n=name: self.errors[n].show_error(None)  # noqa: E731
        if isinstance(widget, QLineEdit):
            widget.textChanged.connect(clear)
        elif isinstance(widget, QPlainTextEdit):
            widget.textChanged.connect(clear)
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(clear)
        elif isinstance(widget, DateEdit):
            widget.dateChanged.connect(clear)
        elif isinstance(widget, OptionalDate):
            widget.check.toggled.connect(clear)
            widget.edit.dateChanged.connect(clear)
        for check in self.checks.get(name, {}).values():
            check.toggled.connect(clear)

    def _check_row(self, name: str, options: tuple[str, ...]) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.checks[name] = {}
        for option in options:
            check = QCheckBox(option)
            check.setObjectName(f"patrol_{name}_{options.index(option)}")
            self.checks[name][option] = check
            row.addWidget(check)
        row.addStretch(1)
        return box

    def _load(self, r: dict[str, Any]) -> None:
        self.stage.setCurrentText(r["stage"])
        self.visited_on.set_value(r["visited_on"])
        self.patrollers.setText("、".join(r["patrollers"] or []))
        self.escort.setText(r["escort"] or "")
        index = self.parcel.findData(r["parcel"])
        if index < 0:
            parcel = self.store.get("parcel", r["parcel"], include_deleted=True)
            self.parcel.addItem(parcel["code"], r["parcel"])
            index = self.parcel.count() - 1
        self.parcel.setCurrentIndex(index)
        for name, boxes in self.checks.items():
            for option, check in boxes.items():
                check.setChecked(option in (r[name] or []))
        self.meter.setText("" if r["meter_reading"] is None else f"{r['meter_reading']:g}")
        self.verdict.setCurrentText(r["result"])
        self.description.setPlainText(r["description"] or "")
        ordered = any(r[n] for n in ("rect_requirement", "rect_deadline", "rect_notified_on",
                                     "rect_signature", "rect_responsible", "rect_action", "recheck_on",
                                     "closed_on"))
        self.rect_box.setChecked(ordered)
        self.rect_requirement.setText(r["rect_requirement"] or "")
        if r["rect_deadline"]:
            self.rect_deadline.set_value(r["rect_deadline"])
        self.rect_notified_on.set_value(r["rect_notified_on"])
        self.rect_signature.setCurrentText(r["rect_signature"] or "")
        self.rect_responsible.setText(r["rect_responsible"] or "")
        self.rect_action.setCurrentText(r["rect_action"] or "")
        self.recheck_on.set_value(r["recheck_on"])
        self.recheck_result.setText(r["recheck_result"] or "")
        self.closed_on.set_value(r["closed_on"])
        for photo in photos_of(self.store, r["uuid"]):
            self.photo_strip.add_stored(self.store, photo)

    def _follow_visit(self, visited: date) -> None:
        """Follow-up dates start at the patrol's date, not today: a deadline left as it was offered
        moves with the visit, and an unticked notice/recheck/closing date offers the visit date."""
        if self.rect_deadline.valid_value() in (None, self._visited):
            self.rect_deadline.set_value(visited)
        for optional in (self.rect_notified_on, self.recheck_on, self.closed_on):
            optional.set_default(visited)
        self._visited = visited

    def people_warning(self) -> str | None:
        return patrols.patrol_people_warning(split_names(self.patrollers.text()), self.escort.text())

    def _count_people(self) -> None:
        people = patrols.patrol_people(split_names(self.patrollers.text()), self.escort.text())
        warning = self.people_warning()
        if not people:  # nothing typed yet: the rule, not a complaint
            self.people.setStyleSheet("")
            self.people.setText(f"巡查应不少于{patrols.MIN_PATROL_PEOPLE}人（巡查人与陪同人合计）")
            return
        self.people.setStyleSheet(ERROR_STYLE if warning else "")
        self.people.setText(warning or f"在场 {len(people)} 人：{'、'.join(people)}")

    def is_violation(self) -> bool:
        return self.verdict.currentText().startswith("违规")

    def _verdict_changed(self, _text: str) -> None:
        # A violation normally orders a rectification: offer the section ready to fill.
        if self.is_violation() and not self.rect_box.isChecked():
            self.rect_box.setChecked(True)

    # ------------------------------------------------------------ photos
    def choose_photos(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "选择现场照片", "", PHOTO_FILTER)
        for name in files:
            self.photo_strip.add_file(Path(name))

    def remove_photo(self) -> None:
        row = self.photo_strip.currentRow()
        if row < 0:
            return
        entry = self.photo_strip.entries[row]
        if entry.record is None:
            self.photo_strip.remove_row(row)
            return
        if QMessageBox.question(self, "删除照片", "确定删除这张已保存的照片？点“保存”后删除并记入变更历史，"
                                "点“取消”则保留。") != QMessageBox.StandardButton.Yes:
            return
        self.removed_photos.append(self.photo_strip.remove_row(row).record or {})

    # ------------------------------------------------------------ saving
    def values(self) -> dict[str, Any]:
        rect = self.rect_box.isChecked()
        values: dict[str, Any] = {
            "parcel": self.parcel.currentData(), "year": self.record_year,
            "stage": self.stage.currentText(), "visited_on": self.visited_on.value(),
            "patrollers": split_names(self.patrollers.text()), "escort": self.escort.text(),
            "meter_reading": self.meter.text().strip() or None, "result": self.verdict.currentText(),
            "description": self.description.toPlainText(),
            "rect_requirement": self.rect_requirement.text() if rect else None,
            "rect_deadline": self.rect_deadline.value() if rect else None,
            "rect_notified_on": self.rect_notified_on.value() if rect else None,
            "rect_signature": (self.rect_signature.currentText() or None) if rect else None,
            "rect_responsible": self.rect_responsible.text() if rect else None,
            "rect_action": (self.rect_action.currentText() or None) if rect else None,
            "recheck_on": self.recheck_on.value() if rect else None,
            "recheck_result": self.recheck_result.text() if rect else None,
            "closed_on": self.closed_on.value() if rect else None,
        }
        for name, boxes in self.checks.items():
            values[name] = [o for o, c in boxes.items() if c.isChecked()]
        return values

    def save(self) -> None:
        for error in [*self.errors.values(), self.general]:
            error.show_error(None)
        warning = self.people_warning()
        if warning and split_names(self.patrollers.text()):
            # A warning, not a refusal: said before saving, saved only on the user's word.
            answer = QMessageBox.question(
                self, "巡查人数不足", f"{warning}。仍要保存吗？",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.errors["patrollers"].show_error(warning)
                return
        if self.is_violation() and not self.rect_box.isChecked():
            answer = QMessageBox.question(
                self, "未下达整改", f"判定为“{self.verdict.currentText()}”，但没有勾选“下达整改”。"
                "仍要保存吗？", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.errors["result"].show_error("违规的巡查应下达整改：请勾选“下达整改”并填写整改要求。")
                return
        def refused(err: WqError) -> None:
            field = getattr(err, "field", None) or ""
            (self.errors.get(field) or self.general).show_error(str(err))

        try:
            values = self.values()  # a date that is not one is refused here, with its reason
        except WqError as err:
            refused(err)
            return
        uuid, rev = self.patrol, self.rev
        taken = [entry.path for entry in self.photo_strip.staged()]
        removed = [record["uuid"] for record in self.removed_photos]

        def saved(changes: Changes) -> None:
            self.patrol = changes.result
            self.accept()

        run_op(self, self.store,
               lambda s: patrol_ops.record_patrol(s, uuid, values, base_rev=rev, add_photos=taken,
                                               remove_photos=removed),
               on_done=saved, on_error=refused)
