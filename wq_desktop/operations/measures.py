"""This year's split of a parcel into 实际种植 / 退减灌溉 / 休耕轮作, and the townships' water quotas
and targets the measures are counted against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .. import services
from ..model import MeasureKind
from ..store import Store
from .changes import operation


@operation
def set_measure(store: Store, parcel: str, year: int, kind: MeasureKind | str,
                area_mu: float | str | None, subsidy_rate: float | str | None = None) -> str | None:
    return services.set_measure(store, parcel, year, kind, area_mu, subsidy_rate)


@operation
def set_measures(store: Store, parcel: str, year: int, areas: Mapping[str, float | None],
                 rates: Mapping[str, float | None], order: Sequence[str]) -> None:
    """Several measures of one parcel together, in `order` (shrinking ones first, so moving area
    from one measure to another never overfills the parcel)."""
    for kind in order:
        services.set_measure(store, parcel, year, kind, areas[kind] or None, rates.get(kind))


@operation
def set_quotas(store: Store, township: str, year: int, quotas: Sequence[tuple[str, float]]) -> None:
    """This year's 亩均需水量 of each crop (crop, m³/亩)."""
    from .. import water

    for crop, m3_per_mu in quotas:
        water.set_quota(store, township, year, crop, m3_per_mu)


@operation
def delete_quota(store: Store, uuid: str) -> None:
    store.delete("water_quota", uuid)


@operation
def save_targets(store: Store, township: str, year: int, total: str, groundwater: str,
                 villages: Sequence[tuple[str, str, str, str]]) -> None:
    from .. import targets

    targets.save_target_sheet(store, township, year, total, groundwater, list(villages))
