"""包联 contacts (the township's leaders and staff)."""

from __future__ import annotations

from typing import Any

from ..store import Store
from .changes import operation, save_record


@operation
def save_contact(store: Store, uuid: str | None, values: dict[str, Any], *,
                 base_rev: int | None = None) -> str:
    return save_record(store, "contact", uuid, values, base_rev=base_rev)


@operation
def delete_contact(store: Store, uuid: str) -> list[tuple[str, str]]:
    return store.delete("contact", uuid, cascade=True)
