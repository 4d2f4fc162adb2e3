"""Sync as operations: a sync with the server, a pulled page, a USB reply package, a conflict
resolved, a refused change given up. Each says what it wrote, so the window redraws what the
server brought exactly as it redraws a local edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..store import Store
from .changes import Changes, operation, recorded


def synchronize(store: Store, server: str, user: str, password: str, *args: Any,
                partial: list[Changes] | None = None, **kwargs: Any) -> Changes:
    """sync_now, described; the result is its SyncReport. A sync cut off (offline, cancelled,
    refused) keeps the pages it stored: `partial`, when given, receives their description."""
    from ..sync import sync_now

    with store.recording() as written:
        try:
            report = sync_now(store, server, user, password, *args,
                              apply_page=lambda s, page, cursor: apply_pull(s, page, cursor).result,
                              **kwargs)
        finally:
            if partial is not None:
                partial.append(Changes.of(store, "synchronize", list(written)))
    return Changes.of(store, "synchronize", written, report)


def apply_pull(store: Store, page: list[Any], cursor: int | str) -> Changes:
    """One pulled page, stored with the cursor in one transaction, each change in one write;
    the result is the rule warnings of the server's values."""
    from ..sync.apply import store_pulled

    with recorded(store, "apply_pull", atomic=False) as done:
        done.result = store_pulled(store, page, cursor)
    assert done.changes is not None
    return done.changes


def import_usb_reply(store: Store, path: Path) -> Changes:
    """A reply package from the server (answers and others' changes); the result: its summary."""
    from ..sync.package import import_reply

    with recorded(store, "import_usb_reply", atomic=False) as done:
        done.result = import_reply(store, path)
    assert done.changes is not None
    return done.changes


@operation
def resolve_conflict(store: Store, conflict: str, choices: dict[str, str]) -> None:
    from ..sync import resolve_conflict as resolve

    resolve(store, conflict, choices)


@operation
def discard_rejected(store: Store, seq: int) -> None:
    from ..sync.apply import discard_rejected as discard

    discard(store, seq)


