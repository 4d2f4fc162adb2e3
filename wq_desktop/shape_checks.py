"""Parcels too small, too thin or too large to be real fields, and the import's tolerances, per store.

Digitising leaves slivers: 0.1 m² crumbs where two outlines almost meet, metre-wide strips along a
shared edge. Geometry rules accept them; a township cannot retire them. A parcel under the minimum
area (default 0.1 亩) or thinner than the minimum mean width is refused with the reason unless the
user confirms that one parcel. Mean width = 2 × area / perimeter: a strip's width, a square's half
side, so it reads in metres and a 1,000 m × 10 m field (9.9 m) passes while a 200 m × 0.5 m sliver
(0.5 m) does not.

The settings live in the store's meta table (they belong to the township's data, not to one user).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from .errors import ValidationError
from .model import SQM_PER_MU

if TYPE_CHECKING:
    from .store import Store

_META_PREFIX = "check."


@dataclass(frozen=True)
class CheckSettings:
    min_area_mu: float = 0.1
    min_width_m: float = 2.0  # mean width 2A/P below this: a sliver
    max_area_mu: float = 50_000.0  # one 图斑 above this is a county or a province, not a field
    refuse_overlap_mu: float | None = None  # overlaps with this village's parcels above it are refused
    tbmj_tolerance: float = 0.01  # |area − TBMJ| / TBMJ above it is flagged (三调 areas are ellipsoidal)

    def validated(self) -> CheckSettings:
        for name, low, high in (("min_area_mu", 0, 1000), ("min_width_m", 0, 100),
                                ("max_area_mu", 1, 10_000_000), ("tbmj_tolerance", 0, 1)):
            value = getattr(self, name)
            if not (math.isfinite(value) and low <= value <= high):
                raise ValidationError(f"{LABELS[name]}应在 {low}–{high} 之间，实为“{value}”。", name)
        if self.refuse_overlap_mu is not None and not (
                math.isfinite(self.refuse_overlap_mu) and self.refuse_overlap_mu >= 0):
            raise ValidationError(f"{LABELS['refuse_overlap_mu']}不能为负数。", "refuse_overlap_mu")
        return self


LABELS = {
    "min_area_mu": "最小地块面积（亩）",
    "min_width_m": "狭长碎片的最小平均宽度（米）",
    "max_area_mu": "单个地块的最大面积（亩）",
    "refuse_overlap_mu": "拒绝导入的重叠面积（亩，空表示只提示）",
    "tbmj_tolerance": "与图斑面积（TBMJ）的允许差异（比例）",
}


def load(store: Store) -> CheckSettings:
    values = {}
    for f in fields(CheckSettings):
        text = store.meta(_META_PREFIX + f.name)
        if text is None:
            continue
        values[f.name] = None if text == "" else float(text)
    return replace(CheckSettings(), **values)


def save(store: Store, settings: CheckSettings) -> None:
    settings = settings.validated()
    with store.transaction():
        for f in fields(CheckSettings):
            value = getattr(settings, f.name)
            store.set_meta(_META_PREFIX + f.name, "" if value is None else repr(float(value)))


def mean_width_m(area_m2: float, length_m: float) -> float:
    """2 × area / perimeter (boundary length, holes included), in metres."""
    return 2 * area_m2 / length_m if length_m > 0 else 0.0


# The rules below take an outline's area (m²) and boundary length (m), not the shape: the import
# measures every outline of a file at once (shapely.area / shapely.length over the array).


def unrecordable(area_m2: float) -> str | None:
    """Why no confirmation can save this parcel: its area is 0.00 亩 as a figure of record."""
    mu = area_m2 / SQM_PER_MU
    if mu >= 0.01:
        return None  # 0.01 亩 or more rounds to at least 0.01 (no Decimal for each imported row)
    from . import figures

    if figures.area_of_record(mu) > 0:
        return None
    return (f"面积仅 {area_m2:,.2f} 平方米，按 0.01 亩记为 0.00 亩，不能作为地块登记"
            "（疑似数字化产生的碎片）")


def size_problem(area_m2: float, length_m: float, settings: CheckSettings) -> str | None:
    """Why this (valid, projected) parcel looks like a digitising crumb or sliver, or None."""
    mu = area_m2 / SQM_PER_MU
    if mu < settings.min_area_mu:
        return (f"面积仅 {mu:.4f} 亩（{area_m2:,.2f} 平方米），"
                f"小于最小地块面积 {settings.min_area_mu:g} 亩，疑似数字化产生的碎片")
    if mu > settings.max_area_mu:
        return (f"面积 {mu:,.0f} 亩，超过单个地块的合理上限 {settings.max_area_mu:,.0f} 亩"
                "（是否导入了行政区划等不是地块的数据？）")
    width = mean_width_m(area_m2, length_m)
    if width < settings.min_width_m:
        return (f"狭长碎片：平均宽度仅 {width:.2f} 米（面积 {mu:.2f} 亩，周长 {length_m:,.1f} 米），"
                f"小于 {settings.min_width_m:g} 米")
    return None


def area_difference(area_m2: float, declared_m2: float, settings: CheckSettings) -> str | None:
    """The flag when the computed area differs from the file's TBMJ beyond the tolerance."""
    if declared_m2 <= 0 or abs(area_m2 - declared_m2) <= settings.tbmj_tolerance * declared_m2:
        return None
    share = (area_m2 - declared_m2) / declared_m2
    return (f"计算面积 {area_m2:,.1f} 平方米，文件中图斑面积（TBMJ）为 {declared_m2:,.1f} 平方米，"
            f"相差 {share:+.1%}（允许 {settings.tbmj_tolerance:.1%}，是否选错了坐标系？）")
