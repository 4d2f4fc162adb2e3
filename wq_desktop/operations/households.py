"""Households: the operator record, its 包联 people, deleting and restoring a whole household."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import services
from ..store import Store
from .changes import operation, save_record


@operation
def save_operator(store: Store, uuid: str | None, values: dict[str, Any], *,
                  village: str | None = None, base_rev: int | None = None) -> str:
    """Create a household in `village` (uuid None) or change its fields against `base_rev`;
    the result is its UUID."""
    return save_record(store, "operator", uuid, values if uuid else {"village": village, **values},
                       base_rev=base_rev)


@operation
def delete_household(store: Store, uuid: str) -> list[tuple[str, str]]:
    return services.delete_household(store, uuid)


@operation
def restore_household(store: Store, uuid: str) -> list[tuple[str, str]]:
    return services.restore_household(store, uuid)


@operation
def assign_contacts(store: Store, operators: Iterable[str], *, leader: str | None = None,
                    staff: str | None = None) -> int:
    return services.assign_contacts(store, operators, leader=leader, staff=staff)


@operation
def import_roster(store: Store, preview: Any) -> int:
    """Operators from a previewed Excel roster (excel.RosterPreview); the result is how many."""
    from .. import excel

    return excel.import_roster(store, preview)


@operation
def save_courtyard(store: Store, operator: str, year: int, crop: str, area_mu: object,
                   record: str | None = None) -> str:
    from .. import planting

    return planting.set_courtyard(store, operator, year, crop, area_mu, record)


@operation
def delete_courtyard(store: Store, uuid: str) -> None:
    store.delete("courtyard", uuid)
