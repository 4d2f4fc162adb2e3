"""What a change waiting in the sync outbox sends.

Since schema 14 an outbox row names the history entry written with it (`entry`, the entry's
seq) instead of repeating the record's fields: the fields sent are that entry's new values, in
the order the store wrote them (the kind's fields in schema order, then `deleted`), so the server
receives the same change as when the row held its own copy. A row from before schema 14 whose
entry could not give back its text exactly keeps the text (`fields`); see migrations.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .schema import KINDS

# A query over `outbox o` with this join selects `o.fields, h.changes` for queued_fields.
WITH_ENTRY = "outbox o LEFT JOIN history h ON h.seq = o.entry"
# The row's changed fields as JSON text whose keys are the field names (values differ in form).
NAMES_TEXT = "coalesce(o.fields, h.changes)"


@cache
def _order(kind_name: str) -> dict[str, int]:
    names = (*KINDS[kind_name].field_names, "deleted")
    return {name: i for i, name in enumerate(names)}


def queued_fields(kind_name: str, fields: str | None, changes: str | None) -> dict[str, Any]:
    """The fields a waiting change sends (wire form): the row's own text, or else the new
    values of its history entry (`changes`, {field: [old, new]}) in the order they were written."""
    if fields is not None:
        return json.loads(fields)
    entry = json.loads(changes or "{}")
    order = _order(kind_name)
    last = len(order)
    return {name: entry[name][1] for name in sorted(entry, key=lambda n: order.get(n, last))}


def queued_names(text: str) -> set[str]:
    """The names of the fields a waiting change sends, from NAMES_TEXT."""
    return set(json.loads(text))
