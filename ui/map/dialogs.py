"""Dialogs of the map: new-parcel fields, parcel from 界址点 text, and the GIS import with preview."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
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
from shapely.geometry import Polygon

from wq_desktop import location_checks, shape_checks
from wq_desktop.errors import WqError
from wq_desktop.geo import boundary_points, polygons
from wq_desktop.gis_import import (
    PRESETS,
    TARGETS,
    ImportPreview,
    Mapping,
    SourceData,
    boundary_from_file,
    guess_mapping,
    preview_import,
    read_source,
)
from wq_desktop.gisfiles import village_choices
from wq_desktop.model import LandAttribute
from wq_desktop.operations import Changes, parcels
from wq_desktop.queries.navigation import households_in_village
from wq_desktop.store import Store

from ..operations import run_op

ERROR_STYLE = "color: #b00020;"
NOT_USED = "（不使用）"
NO_OPERATOR = "（暂不指定）"


def _save_cancel() -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
    return buttons


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    return label


class ParcelFields(QWidget):
    """Village, parcel code, land attribute and optionally its 经营者: what a new parcel needs
    besides its shape."""

    def __init__(self, store: Store, village: str | None, operator: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.village = QComboBox()
        for uuid, code, name in village_choices(store):
            self.village.addItem(f"{name}（{code}）", uuid)
        if village is not None:
            self.village.setCurrentIndex(max(0, self.village.findData(village)))
        self.code = QLineEdit()
        self.code.setPlaceholderText("例如 012-3")
        self.attribute = QComboBox()
        self.attribute.addItems([a.value for a in LandAttribute])
        self.operator = QComboBox()
        self.operator.setToolTip("可先不指定，以后在农户页或地图上再指定")
        self._fill_operators(operator)
        self.village.currentIndexChanged.connect(lambda _i: self._fill_operators(None))
        form.addRow("所属村", self.village)
        form.addRow("地块编号", self.code)
        form.addRow("土地属性", self.attribute)
        form.addRow("经营者", self.operator)

    def _fill_operators(self, chosen: str | None) -> None:
        """The households of the chosen village (a parcel is farmed in its own village)."""
        self.operator.clear()
        self.operator.addItem(NO_OPERATOR, None)
        village = self.village.currentData()
        if village is None:
            return
        rows = households_in_village(self.store, village)
        names = [name for _, name, _ in rows]
        for uuid, name, group in rows:
            # Two households of one name are told apart by their 组 (never by ID numbers on screen).
            label = f"{name}（{group}）" if group and names.count(name) > 1 else name
            self.operator.addItem(label, uuid)
        if chosen is not None:
            self.operator.setCurrentIndex(max(0, self.operator.findData(chosen)))

    def problem(self) -> str | None:
        if self.village.currentData() is None:
            return "请先建立村，再添加地块。"
        if not self.code.text().strip():
            return "请填写地块编号。"
        return None

    def values(self) -> dict[str, Any]:
        return {"village": self.village.currentData(), "code": self.code.text().strip(),
                "land_attribute": self.attribute.currentText(), "operator": self.operator.currentData()}


class _ParcelDialog(QDialog):
    """A dialog that ends with the new parcel's fields, an error line and 保存/取消."""

    def _add_fields(self, layout: QVBoxLayout, store: Store, village: str | None) -> None:
        self.fields = ParcelFields(store, village)
        layout.addWidget(self.fields)
        self.error = _error_label()
        layout.addWidget(self.error)
        buttons = _save_cancel()
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def problem(self) -> str | None:
        return self.fields.problem()

    def _accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            return
        self.accept()

    def values(self) -> dict[str, Any]:
        return self.fields.values()


class NewParcelDialog(_ParcelDialog):
    def __init__(self, store: Store, shape: Polygon, village: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("新建地块")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"面积：{polygons.area_mu(shape):,.2f} 亩"))
        self._add_fields(layout, store, village)


class BoundaryPointsDialog(_ParcelDialog):
    """Paste or type 界址点 (X = northing, Y = easting, with or without the zone prefix 29)."""

    EXAMPLE = "J1,1,4872502.64,29521565.63\nJ2,1,4872510.58,29521658.07\nJ3,1,4872373.99,29521667.24\n…"

    def __init__(self, store: Store, village: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.shape: Polygon | None = None
        self.setWindowTitle("按界址点坐标新建地块")
        self.resize(560, 520)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("粘贴或输入界址点：每行 “点号,圈号,X,Y”、“点号,X,Y” 或 “X,Y”。"
                                "X 为纵坐标（北向），Y 为横坐标（东向），带不带“29”带号均可；"
                                "可直接粘贴整个坐标TXT地块。"))
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText(self.EXAMPLE)
        self.text.setFont(QFont("monospace"))
        self.text.textChanged.connect(self.parse)
        layout.addWidget(self.text, 1)
        self.result = QLabel("尚未输入坐标。")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        self._add_fields(layout, store, village)

    def parse(self) -> Polygon | None:
        self.shape = None
        text = self.text.toPlainText()
        if not text.strip():
            self.result.setText("尚未输入坐标。")
            self.result.setStyleSheet("")
            return None
        try:
            self.shape = boundary_points.parse_boundary_points(text, self.store.crs)
        except WqError as err:
            self.result.setText(f"无法使用：{err}")
            self.result.setStyleSheet(ERROR_STYLE)
            return None
        points = len(self.shape.exterior.coords) - 1
        self.result.setText(f"图形有效：{points} 个拐点，面积 {polygons.area_mu(self.shape):,.2f} 亩。")
        self.result.setStyleSheet("")
        return self.shape

    def problem(self) -> str | None:
        if self.parse() is None:
            return "请先输入有效的界址点坐标。"
        return super().problem()


class ImportDialog(QDialog):
    """Choose the field mapping (三调 DLTB preset …), see counts and problems, then import."""

    def __init__(self, store: Store, path: str | Path, village: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.source: SourceData = read_source(path)  # raises WqError: the caller shows it
        self.preview: ImportPreview | None = None
        self.created: list[str] = []
        self.setWindowTitle(f"导入地块：{Path(path).name}")
        self.resize(860, 640)
        layout = QVBoxLayout(self)
        crs = self.source.crs or "文件中没有，请在下方指定"
        layout.addWidget(QLabel(f"图层 {self.source.layer}，{len(self.source)} 个图斑；坐标系：{crs}；"
                                f"文字编码：{self.source.encoding}"))
        top = QHBoxLayout()
        self.preset = QComboBox()
        self.preset.addItems([*PRESETS, "按字段名猜测"])
        top.addWidget(QLabel("字段对应预设"))
        top.addWidget(self.preset)
        self.village = QComboBox()
        self.village.addItem("按文件中的坐落单位", None)
        for uuid, code, name in village_choices(store):
            self.village.addItem(f"{name}（{code}）", code)
            if uuid == village:
                self.village.setCurrentIndex(self.village.count() - 1)
        top.addWidget(QLabel("导入到"))
        top.addWidget(self.village)
        self.crs = QLineEdit()
        self.crs.setObjectName("import_crs")
        # Editable for files with a CRS too: a mislabelled .prj is corrected here (see 建议 below).
        self.crs.setPlaceholderText(f"文件自带 {self.source.crs}，需更正时填写" if self.source.crs
                                    else "如 EPSG:4517")
        self.crs.editingFinished.connect(self.refresh)
        top.addWidget(QLabel("坐标系"))
        top.addWidget(self.crs, 1)
        layout.addLayout(top)
        suggestion_row = QHBoxLayout()
        self.suggestion = QLabel()
        self.suggestion.setObjectName("import_suggestion")
        self.suggestion.setWordWrap(True)
        self.suggestion.setStyleSheet(ERROR_STYLE)
        self.use_suggestion = QPushButton("采用建议的坐标系")
        self.use_suggestion.setObjectName("import_use_suggestion")
        self.use_suggestion.clicked.connect(self._use_suggestion)
        suggestion_row.addWidget(self.suggestion, 1)
        suggestion_row.addWidget(self.use_suggestion)
        layout.addLayout(suggestion_row)
        box = QGroupBox("字段对应（目标 ← 文件中的字段）")
        grid = QGridLayout(box)
        self.combos: dict[str, QComboBox] = {}
        for n, (target, label) in enumerate(TARGETS.items()):
            combo = QComboBox()
            combo.addItems([NOT_USED, *self.source.fields])
            grid.addWidget(QLabel(label), n // 3, (n % 3) * 2)
            grid.addWidget(combo, n // 3, (n % 3) * 2 + 1)
            self.combos[target] = combo
        layout.addWidget(box)
        options = QHBoxLayout()
        self.attribute = QComboBox()
        self.attribute.addItems(["（文件中没有时不导入）", *(a.value for a in LandAttribute)])
        options.addWidget(QLabel("默认土地属性"))
        options.addWidget(self.attribute)
        self.farmland_only = QCheckBox("只导入耕地（地类编码 01）")
        self.farmland_only.setChecked(True)
        options.addWidget(self.farmland_only)
        self.checks = shape_checks.load(store)
        self.overlap_limit = QLineEdit("" if self.checks.refuse_overlap_mu is None
                                       else f"{self.checks.refuse_overlap_mu:g}")
        self.overlap_limit.setObjectName("import_overlap_limit")
        self.overlap_limit.setPlaceholderText("只提示")
        self.overlap_limit.setMaximumWidth(80)
        self.overlap_limit.setToolTip("与本村已有地块重叠超过该面积的图斑不导入；与其他村的地块重叠总是不导入")
        self.overlap_limit.editingFinished.connect(self.refresh)
        options.addWidget(QLabel("重叠超过（亩）不导入"))
        options.addWidget(self.overlap_limit)
        refresh = QPushButton("刷新预览")
        refresh.clicked.connect(self.refresh)
        options.addWidget(refresh)
        layout.addLayout(options)
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        layout.addWidget(self.report, 1)
        self.small_title = QLabel("面积过小、狭长或过大的图斑：逐个核实后勾选，勾选的将导入")
        self.small = QListWidget()
        self.small.setObjectName("import_small")
        self.small.setMaximumHeight(120)
        self.small.itemChanged.connect(self._small_checked)
        layout.addWidget(self.small_title)
        layout.addWidget(self.small)
        self.confirmed: set[int] = set()
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok_cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("导入")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.run_import)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        guessed = guess_mapping(self.source)
        self.preset.setCurrentText(guessed.preset)
        self._show_mapping(guessed)
        self.preset.currentTextChanged.connect(self._preset_changed)
        self.refresh()

    def _show_mapping(self, mapping: Mapping) -> None:
        for target, combo in self.combos.items():
            combo.setCurrentText(mapping.fields.get(target) or NOT_USED)

    def _preset_changed(self, preset: str) -> None:
        self._show_mapping(guess_mapping(self.source, preset))
        self.refresh()

    def mapping(self) -> Mapping:
        fields = {t: c.currentText() for t, c in self.combos.items() if c.currentText() != NOT_USED}
        attribute = self.attribute.currentText() if self.attribute.currentIndex() > 0 else None
        return Mapping(fields=fields, preset=self.preset.currentText(), default_land_attribute=attribute,
                       farmland_only=self.farmland_only.isChecked())

    def _settings(self) -> shape_checks.CheckSettings:
        text = self.overlap_limit.text().strip().removesuffix("亩")
        if not text:
            return replace(self.checks, refuse_overlap_mu=None)
        try:
            limit = float(text)
        except ValueError:
            raise WqError(f"重叠面积“{text}”不是数字；留空表示只提示。") from None
        return replace(self.checks, refuse_overlap_mu=limit).validated()

    def refresh(self) -> None:
        self.preview = None
        try:
            self.preview = preview_import(self.store, self.source, self.mapping(),
                                          village_code=self.village.currentData(),
                                          crs=self.crs.text().strip() or None, checks=self._settings(),
                                          confirmed=self.confirmed)
        except WqError as err:
            self.report.setPlainText(str(err))
            self.ok.setEnabled(False)
            self._show_suggestion()
            return
        self.report.setPlainText("\n".join(self.preview.lines()))
        self.ok.setEnabled(self.preview.blocking is None)
        self._show_suggestion()
        self._show_small()

    def _show_suggestion(self) -> None:
        suggestion = self.preview.suggested_crs if self.preview is not None else None
        self.suggestion.setText(suggestion.line() if suggestion else "")
        self.suggestion.setVisible(suggestion is not None)
        self.use_suggestion.setVisible(suggestion is not None)
        if suggestion:
            self.use_suggestion.setText(f"采用 {suggestion.crs}")

    def _use_suggestion(self) -> None:
        if self.preview is not None and self.preview.suggested_crs is not None:
            self.crs.setText(self.preview.suggested_crs.crs)
            self.refresh()

    def _show_small(self) -> None:
        """The refused small/thin rows (unchecked) and those already confirmed (checked)."""
        assert self.preview is not None
        self.small.blockSignals(True)
        self.small.clear()
        rows = [(p.feature, p.line(), False) for p in self.preview.small]
        rows += [(n, f"第{n}个图斑：已确认导入", True) for n in sorted(self.confirmed)]
        for feature, text, checked in sorted(rows):
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, feature)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.small.addItem(item)
        self.small.blockSignals(False)
        shown = bool(rows)
        self.small.setVisible(shown)
        self.small_title.setVisible(shown)

    def _small_checked(self, item: QListWidgetItem) -> None:
        feature = int(item.data(Qt.ItemDataRole.UserRole))
        if item.checkState() == Qt.CheckState.Checked:
            self.confirmed.add(feature)
        else:
            self.confirmed.discard(feature)
        self.refresh()

    def run_import(self) -> None:
        preview = self.preview
        if preview is None or preview.blocking:
            return
        if preview.has_errors:
            answer = QMessageBox.question(self, "有问题的图斑",
                                          f"{preview.refused} 个图斑未通过检查（见预览），将不导入。"
                                          f"是否只导入其余 {len(preview.ready)} 个地块？")
            if answer != QMessageBox.StandardButton.Yes:
                return
        def imported(changes: Changes) -> None:
            self.created = changes.result
            updated = f"，其中按标识码（BSM）更新 {preview.updates} 个" if preview.updates else ""
            QMessageBox.information(self, "导入完成", f"已导入 {len(self.created)} 个地块{updated}。")
            self.accept()

        run_op(self, self.store, lambda s: parcels.import_parcels(s, preview), on_done=imported,
               error_title="导入失败")


class CheckSettingsDialog(QDialog):
    """The township's location and size checks: boundary file, minimum area, sliver width, overlaps."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.boundary_path: str | None = None
        self.clear_boundary = False
        self.setWindowTitle("地块检查设置")
        settings = shape_checks.load(store)
        form = QFormLayout()
        has_boundary = store.meta(location_checks.BOUNDARY_META) is not None
        margin = location_checks.PARCEL_MARGIN_M / 1000
        self.boundary = QLabel("已设置乡镇边界" if has_boundary else
                               f"未设置：按已有地块的范围（外扩 {margin:g} 公里）检查")
        self.boundary.setObjectName("checks_boundary")
        self.boundary.setWordWrap(True)
        choose = QPushButton("选择边界文件…")
        choose.clicked.connect(self._choose)
        clear = QPushButton("不用边界")
        clear.clicked.connect(self._clear)
        row = QHBoxLayout()
        row.addWidget(choose)
        row.addWidget(clear)
        row.addStretch(1)
        form.addRow("乡镇边界", self.boundary)
        form.addRow("", row)
        self.edits: dict[str, QLineEdit] = {}
        for name in ("min_area_mu", "min_width_m", "max_area_mu", "refuse_overlap_mu"):
            value = getattr(settings, name)
            edit = QLineEdit("" if value is None else f"{value:g}")
            edit.setObjectName(f"checks_{name}")
            if name == "refuse_overlap_mu":
                edit.setPlaceholderText("留空：只提示")
            self.edits[name] = edit
            form.addRow(shape_checks.LABELS[name], edit)
        self.error = _error_label()
        buttons = _save_cancel()
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel("导入和绘制的地块须在乡镇范围内（始终在昌吉市所在的第29带内）；"
                       "过小、狭长或过大的地块须逐个确认；与其他村的地块重叠总是不允许。")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)

    def _choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "乡镇边界", "",
                                              "边界文件 (*.shp *.gpkg *.geojson *.json)")
        if name:
            self.choose_boundary(name)

    def choose_boundary(self, path: str) -> None:
        self.boundary_path, self.clear_boundary = path, False
        self.boundary.setText(f"将使用：{Path(path).name}")

    def _clear(self) -> None:
        self.boundary_path, self.clear_boundary = None, True
        self.boundary.setText("将不用边界：按已有地块的范围检查")

    def values(self) -> shape_checks.CheckSettings:
        numbers: dict[str, float | None] = {}
        for name, edit in self.edits.items():
            text = edit.text().strip()
            if not text and name == "refuse_overlap_mu":
                numbers[name] = None
                continue
            try:
                numbers[name] = float(text)
            except ValueError:
                raise WqError(f"{shape_checks.LABELS[name]}“{text}”不是数字。") from None
        return replace(shape_checks.load(self.store), **numbers).validated()

    def save(self) -> None:
        try:
            settings = self.values()
            if self.boundary_path:
                shape = boundary_from_file(self.store, self.boundary_path)
                location_checks.set_boundary(self.store, shape)
            elif self.clear_boundary:
                location_checks.set_boundary(self.store, None)
            shape_checks.save(self.store, settings)
        except WqError as err:
            self.error.setText(str(err))
            return
        self.accept()
