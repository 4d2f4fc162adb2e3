"""督办: the township's answer to the city office's finding (回复, or 已整改)."""

from __future__ import annotations

from datetime import date

from .. import supervision
from ..store import Store
from .changes import operation


@operation
def answer_supervision(store: Store, uuid: str, reply: str, rectified: bool,
                       today: date | None = None) -> int:
    return supervision.answer(store, uuid, reply, rectified, today)
