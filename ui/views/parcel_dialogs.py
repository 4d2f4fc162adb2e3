"""Dialogs for one parcel: its details, and this year's measures (how its area is split)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from wq_desktop.errors import WqError
from wq_desktop.model import LandAttribute, MeasureKind
from wq_desktop.operations import Changes, measures, parcels
from wq_desktop.queries import household
from wq_desktop.rules import quantities
from wq_desktop.schema import KINDS, SANDIAO_FIELDS
from wq_desktop.store import Store
from wq_desktop.validation import AREA_TOLERANCE_MU

from ..operations import run_op
from ..widgets import ErrorLabel, NumberEdit, save_cancel_buttons

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
        self.area.textEdited.connect(self._check_area)
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

    def _check_area(self, text: str) -> None:
        """The parcel's area bound, said as it is typed (the store refuses with the same words)."""
        try:
            if text.strip():
                quantities.parcel_area(text)
        except WqError as err:
            self.errors["area_mu"].show_error(str(err))
            return
        self.errors["area_mu"].show_error(None)

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
        uuid, rev = self.parcel, self.rev
        values = self.values() if uuid else {"village": self.village, "operator": self.operator,
                                             **self.values()}

        def saved(changes: Changes) -> None:
            self.parcel = changes.result
            self.accept()

        def refused(err: WqError) -> None:
            (self.errors.get(getattr(err, "field", None) or "") or self.general).show_error(str(err))

        run_op(self, self.store, lambda s: parcels.save_parcel(s, uuid, values, base_rev=rev),
               on_done=saved, on_error=refused)


class MeasureDialog(QDialog):
    """This year's split of one parcel: 实际种植 / 退减灌溉 / 休耕轮作 areas and subsidy rates.

    The boxes keep what was typed: `20` stays 20 and, past the parcel's area, is refused with the
    reason, instead of a spin box quietly turning it into 2.00."""

    def __init__(self, store: Store, parcel: household.ParcelRow, year: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.parcel, self.year = store, parcel, year
        self.setWindowTitle(f"{year}年度措施：地块 {parcel.code}")
        existing = {m.kind: m for m in parcel.measures}
        form = QFormLayout()
        form.addRow("地块面积",
                    QLabel(f"{quantities.format_mu(parcel.area_mu)} 亩（{parcel.land_attribute}）"))
        self.areas: dict[str, NumberEdit] = {}
        self.rates: dict[str, NumberEdit] = {}
        for kind in (MeasureKind.RETIRED, MeasureKind.FALLOW, MeasureKind.PLANTED):
            area = NumberEdit(f"{kind.value}面积", "亩")
            area.setObjectName(f"measure_area_{kind.name.lower()}")
            area.set_number(existing[kind].area_mu if kind in existing else None)
            self.areas[kind] = area
            form.addRow(f"{kind.value}面积（亩）", self._with_error(area))
            if kind != MeasureKind.PLANTED:
                rate = NumberEdit(f"{kind.value}补助标准", "元/亩")
                rate.setObjectName(f"measure_rate_{kind.name.lower()}")
                known = existing[kind].subsidy_rate if kind in existing else None
                rate.set_number(known if known is not None else household.last_subsidy_rate(store, kind))
                self.rates[kind] = rate
                form.addRow(f"{kind.value}补助标准（元/亩）", self._with_error(rate))
        self.whole = QLabel()
        self.whole.setObjectName("measure_sum")
        self.whole.setWordWrap(True)
        for edit in [*self.areas.values(), *self.rates.values()]:
            edit.textChanged.connect(self._update_sum)
        self.error = ErrorLabel()
        buttons = save_cancel_buttons(self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.whole)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._update_sum()

    @staticmethod
    def _with_error(edit: NumberEdit) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(edit)
        column.addWidget(edit.error)
        return box

    def _update_sum(self) -> None:
        total = sum(e.number_or_zero() for e in self.areas.values())
        money = sum(self.areas[k].number_or_zero() * r.number_or_zero() for k, r in self.rates.items())
        rest = self.parcel.area_mu - total
        note = (f"，未登记 {rest:.2f} 亩" if rest > 0.005
                else f"，超出地块面积 {-rest:.2f} 亩" if rest < -0.005 else "")
        self.whole.setText(f"合计 {total:.2f} 亩{note}；补助金额 {money:,.2f} 元")

    def target_areas(self) -> dict[str, float]:
        """The areas to store, as typed. A box left showing its stored value keeps the exact stored
        area, and a total that rounding pushed a hair over the parcel is trimmed from 实际种植.
        Raises ValidationError (shown under the box) for text that is not a number."""
        old = {m.kind: m.area_mu for m in self.parcel.measures}
        areas: dict[str, float] = {}
        for kind, edit in self.areas.items():
            typed = edit.number() or 0.0
            if kind in old and edit.text().strip() == quantities.format_mu(old[kind]):
                areas[kind] = old[kind]
            elif abs(typed - self.parcel.area_mu) < 0.006:
                areas[kind] = self.parcel.area_mu  # "the whole parcel", not a rounded sliver more or less
            else:
                areas[kind] = typed
        excess = sum(areas.values()) - self.parcel.area_mu
        planted = MeasureKind.PLANTED.value
        if 0 < excess <= 0.015 and areas.get(planted, 0) > excess:
            areas[planted] -= excess
        return areas

    def save(self) -> None:
        self.error.show_error(None)
        if any(edit.check() for edit in [*self.areas.values(), *self.rates.values()]):
            self.error.show_error("有填写不正确的数字，请按红色提示修改后再保存。")
            return
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
        rates = {kind: self.rates[kind].number() for kind in kinds if kind in self.rates}
        parcel, year = self.parcel.uuid, self.year
        run_op(self, self.store, lambda s: measures.set_measures(s, parcel, year, areas, rates, kinds),
               on_done=lambda _c: self.accept(), on_error=lambda err: self.error.show_error(str(err)))
