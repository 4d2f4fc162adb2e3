"""The map legend's figures: per measure, the parcels carrying it and the measure's own 亩."""

from __future__ import annotations

import numpy as np

from wq_desktop.gisfiles import CATEGORIES, UNVERIFIED
from wq_desktop.model import MeasureKind

from .parcels import ParcelPaths


def count_legend(pp: ParcelPaths | None, focus: np.ndarray | None) -> dict[str, tuple[int, float]]:
    """Per measure: parcels carrying it and the measure's own 亩 (a parcel's retired part is
    not its whole area); 未核实 counts parcels with no measure, at their parcel area. `focus`:
    only these parcels (a village's), else all."""
    if pp is None:
        return {}
    layer = pp.layer
    keep = focus if focus is not None else np.ones(pp.n, dtype=bool)
    unverified = keep & (pp.category == CATEGORIES.index(UNVERIFIED))
    columns = {MeasureKind.RETIRED.value: layer.retired_mu, MeasureKind.FALLOW.value: layer.fallow_mu,
               MeasureKind.PLANTED.value: layer.planted_mu}
    counts = {}
    for name, column in columns.items():
        measured = keep & (np.nan_to_num(column) > 0)
        counts[name] = (int(measured.sum()), float(np.nan_to_num(column)[measured].sum()))
    counts[UNVERIFIED] = (int(unverified.sum()), float(np.nan_to_num(layer.area_mu)[unverified].sum()))
    return counts
