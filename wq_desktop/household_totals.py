"""A household's 本年度合计, added up in one place: the household view, the printed agreement and
the 包联 list show these same figures of record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from . import figures


class ParcelFigures(Protocol):
    """A parcel's figures of record in one year, as the household view and the printed
    household both hold them (queries.household.ParcelRow, summary.ParcelYear)."""

    @property
    def area_mu(self) -> Decimal | float: ...
    @property
    def verified_mu(self) -> Decimal: ...
    @property
    def retired_mu(self) -> Decimal: ...
    @property
    def fallow_mu(self) -> Decimal: ...
    @property
    def subsidy(self) -> Decimal: ...


@dataclass(frozen=True)
class HouseholdTotals:
    """A household's 本年度合计: the sums of its parcels' figures of record."""

    parcels: int
    area_mu: Decimal  # the parcels' whole areas
    verified_mu: Decimal
    retired_mu: Decimal
    fallow_mu: Decimal
    subsidy: Decimal


def household_totals(parcels: Iterable[ParcelFigures]) -> HouseholdTotals:
    rows = list(parcels)
    return HouseholdTotals(
        len(rows), figures.sum_of_records(p.area_mu for p in rows),
        figures.total(p.verified_mu for p in rows), figures.total(p.retired_mu for p in rows),
        figures.total(p.fallow_mu for p in rows), figures.total(p.subsidy for p in rows))
