"""Dialogs for one parcel: its details, and this year's measures (how its area is split)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import queries, rules, services
from wq_desktop.errors import WqError
from wq_desktop.model import LandAttribute, MeasureKind
from wq_desktop.schema import KINDS, SANDIAO_FIELDS
from wq_desktop.store import Store
from wq_desktop.validation import AREA_TOLERANCE_MU

from ..widgets import ErrorLabel, save_cancel_buttons

_PARCEL = KINDS["parcel"]
_TEXT = ("code", "place_name", "east", "south", "west", "north", "water_source", "crop")


class ParcelDialog(QDialog):
    """Create or edit a parcel. A mapped parcel's area comes from its shape and is not typed."""

    def __init__(self, store: Store, village: str, operator: str, parcel: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.village, self.operator, self.parcel = store, village, operator, parcel
        record = store.get("parcel", parcel) if parcel else None
        self.rev = record["rev"] if record else None
        self.setWindowTitle("编辑地块" if record else "新增地块")
        form = QFormLayout()
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, ErrorLabel] = {}
        for name in _TEXT[:2]:
            self._text_row(form, name, record)
        self.attribute = QComboBox()
        self.attribute.addItems([a.value for a in LandAttribute])
        if record:
            self.attribute.setCurrentText(record["land_attribute"])
        self._row(form, "land_attribute", self.attribute)
        self.area = QLineEdit()
        self.area.setObjectName("parcel_area")
        mapped = bool(record and record["geometry"] is not None)
        if record:
            self.area.setText(f"{record['area_mu']:.2f}")
        if mapped:
            self.area.setReadOnly(True)
            self.area.setToolTip("已绘制图形的地块，面积由图形计算，请在地图中修改图形。")
        else:
            self.area.setPlaceholderText("未绘制图形时填写，如 12.5")
        self._row(form, "area_mu", self.area)
        for name in _TEXT[2:]:
            self._text_row(form, name, record)
        self._sandiao_rows(form, record)
        self.general = ErrorLabel()
        buttons = save_cancel_buttons(self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addWidget(buttons)
        self._mapped = mapped

    def _sandiao_rows(self, form: QFormLayout, record: dict[str, Any] | None) -> None:
        """The bureau's 三调 keys, read-only: they come from its DLTB and go back with exports."""
        if not record or all(record.get(name) is None for name, _, _ in SANDIAO_FIELDS):
            return
        for name, kind, label in SANDIAO_FIELDS:
            value = record.get(name)
            text = "" if value is None else (f"{value:,.2f}" if kind == "real" else str(value))
            shown = QLabel(text or "—")
            shown.setObjectName(f"parcel_{name}")
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            shown.setToolTip("三调成果中的值，随地块导出，重新导入三调图斑时按标识码（BSM）更新")
            form.addRow(label, shown)

    def _text_row(self, form: QFormLayout, name: str, record: dict[str, Any] | None) -> None:
        edit = QLineEdit((record or {}).get(name) or "")
        edit.setObjectName(f"parcel_{name}")
        self.edits[name] = edit
        self._row(form, name, edit)

    def _row(self, form: QFormLayout, name: str, widget: QWidget) -> None:
        f = _PARCEL.field(name)
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(widget)
        self.errors[name] = ErrorLabel()
        column.addWidget(self.errors[name])
        form.addRow(f.label + ("＊" if f.required else ""), box)

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {n: e.text() for n, e in self.edits.items()}
        values["land_attribute"] = self.attribute.currentText()
        if not self._mapped:
            values["area_mu"] = self.area.text().strip().removesuffix("亩") or None
        return values

    def save(self) -> None:
        for error in [*self.errors.values(), self.general]:
            error.show_error(None)
        try:
            if self.parcel:
                self.store.update("parcel", self.parcel, self.values(), base_rev=self.rev)
            else:
                self.parcel = self.store.create(
                    "parcel", {"village": self.village, "operator": self.operator, **self.values()})
        except WqError as err:
            (self.errors.get(getattr(err, "field", None) or "") or self.general).show_error(str(err))
            return
        self.accept()


class MeasureDialog(QDialog):
    """This year's split of one parcel: 实际种植 / 退减灌溉 / 休耕轮作 areas and subsidy rates."""

    def __init__(self, store: Store, parcel: queries.ParcelRow, year: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.parcel, self.year = store, parcel, year
        self.setWindowTitle(f"{year}年度措施：地块 {parcel.code}")
        existing = {m.kind: m for m in parcel.measures}
        form = QFormLayout()
        form.addRow("地块面积", QLabel(f"{rules.format_mu(parcel.area_mu)} 亩（{parcel.land_attribute}）"))
        self.areas: dict[str, QDoubleSpinBox] = {}
        self.rates: dict[str, QDoubleSpinBox] = {}
        for kind in (MeasureKind.RETIRED, MeasureKind.FALLOW, MeasureKind.PLANTED):
            area = QDoubleSpinBox()
            area.setObjectName(f"measure_area_{kind.name.lower()}")
            area.setRange(0, max(parcel.area_mu, 0.01) + 0.005)
            area.setDecimals(2)
            area.setSuffix(" 亩")
            area.setValue(round(existing[kind].area_mu, 2) if kind in existing else 0)
            self.areas[kind] = area
            form.addRow(f"{kind.value}面积", area)
            if kind != MeasureKind.PLANTED:
                rate = QDoubleSpinBox()
                rate.setObjectName(f"measure_rate_{kind.name.lower()}")
                rate.setRange(0, 100000)
                rate.setDecimals(2)
                rate.setSuffix(" 元/亩")
                known = existing[kind].subsidy_rate if kind in existing else None
                rate.setValue(known if known is not None else (queries.last_subsidy_rate(store, kind) or 0))
                self.rates[kind] = rate
                form.addRow(f"{kind.value}补助标准", rate)
        self.whole = QLabel()
        self.whole.setWordWrap(True)
        for spin in [*self.areas.values(), *self.rates.values()]:
            spin.valueChanged.connect(self._update_sum)
        self.error = ErrorLabel()
        buttons = save_cancel_buttons(self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.whole)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._update_sum()

    def _update_sum(self) -> None:
        total = sum(s.value() for s in self.areas.values())
        money = sum(self.areas[k].value() * r.value() for k, r in self.rates.items())
        rest = self.parcel.area_mu - total
        note = (f"，未登记 {rest:.2f} 亩" if rest > 0.005
                else f"，超出地块面积 {-rest:.2f} 亩" if rest < -0.005 else "")
        self.whole.setText(f"合计 {total:.2f} 亩{note}；补助金额 {money:,.2f} 元")

    def target_areas(self) -> dict[str, float]:
        """The areas to store. A spin box shows 2 decimals; a value left as shown keeps its exact
        stored area, and a total that rounding pushed a hair over the parcel is trimmed from 实际种植."""
        old = {m.kind: m.area_mu for m in self.parcel.measures}
        areas: dict[str, float] = {}
        for kind, spin in self.areas.items():
            shown = round(spin.value(), 2)
            if kind in old and shown == round(old[kind], 2):
                areas[kind] = old[kind]
            elif abs(shown - self.parcel.area_mu) < 0.006:
                areas[kind] = self.parcel.area_mu  # "the whole parcel", not a rounded sliver more or less
            else:
                areas[kind] = shown
        excess = sum(areas.values()) - self.parcel.area_mu
        planted = MeasureKind.PLANTED.value
        if 0 < excess <= 0.015 and areas.get(planted, 0) > excess:
            areas[planted] -= excess
        return areas

    def save(self) -> None:
        self.error.show_error(None)
        old = {m.kind: m.area_mu for m in self.parcel.measures}
        areas = self.target_areas()
        # Checked here on the dialog's own total: the store checks one measure at a time, and its
        # message would count this save's other measures as "already registered".
        total = sum(areas.values())
        if total > self.parcel.area_mu + AREA_TOLERANCE_MU:
            self.error.show_error(
                f"三项面积合计 {total:.2f} 亩，超出地块面积 {self.parcel.area_mu:.2f} 亩"
                f"（多 {total - self.parcel.area_mu:.2f} 亩），请调整后再保存。")
            return
        # Shrink before growing, so moving area from one measure to another never overfills the parcel.
        kinds = sorted(areas, key=lambda k: areas[k] - old.get(k, 0.0))
        try:
            with self.store.transaction():
                for kind in kinds:
                    rate = self.rates[kind].value() if kind in self.rates else None
                    services.set_measure(self.store, self.parcel.uuid, self.year, kind, areas[kind] or None,
                                         rate)
        except WqError as err:
            self.error.show_error(str(err))
            return
        self.accept()
