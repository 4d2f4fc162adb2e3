"""A digest of a store's content (every record's fields and tombstone, not revisions or times), to
tell whether two replicas hold the same data."""

from __future__ import annotations

import hashlib
import json

from ..schema import KINDS
from ..store import Store, to_wire


def content_rows(store: Store, township: str | None = None) -> dict[str, tuple]:
    rows: dict[str, tuple] = {}
    for k in KINDS.values():
        cur = store.conn.execute(f'SELECT * FROM "{k.name}"')
        names = [d[0] for d in cur.description]
        for row in cur:
            rec = dict(zip(names, row, strict=True))
            fields = tuple((f.name, to_wire(f, rec[f.name])) for f in k.fields)
            rows[rec["uuid"]] = (k.name, bool(rec["deleted"]), fields)
    return rows


def content_digest(store: Store) -> str:
    digest = hashlib.sha256()
    for uuid, row in sorted(content_rows(store).items()):
        digest.update(json.dumps([uuid, row], ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()
