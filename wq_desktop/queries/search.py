"""Reads for the 查找农户 box: households by name, ID/credit-code digits or parcel code."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..rules import masking
from ..store import Store


@dataclass(frozen=True)
class SearchHit:
    operator: str
    name: str
    village: str
    matched: str  # what matched, shown to the user (ID masked)


def search_households(store: Store, text: str, limit: int = 50) -> list[SearchHit]:
    """Households by name, by last digits of the ID number / credit code, or by parcel code."""
    # Full-width digits from a Chinese IME and pasted spaces are forgiven, as in the rules.
    query = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()
    if not query:
        return []
    like = f"%{query}%"
    hits: dict[str, SearchHit] = {}
    base = ("SELECT o.uuid, o.name, v.name, o.id_code FROM operator o JOIN village v ON v.uuid=o.village"
            " WHERE o.deleted=0 ")
    for uuid, name, village, _ in store.conn.execute(
            base + "AND o.name LIKE ? ORDER BY o.name LIMIT ?", (like, limit)):
        hits.setdefault(uuid, SearchHit(uuid, name, village, f"姓名：{name}"))
    if query.isalnum() and len(query) >= 3:
        for uuid, name, village, id_code in store.conn.execute(
                base + "AND o.id_code LIKE ? LIMIT ?", (f"%{query}", limit)):
            hits.setdefault(uuid, SearchHit(uuid, name, village, f"证件号：{masking.mask_id(id_code)}"))
    for uuid, name, village, code in store.conn.execute(
            "SELECT o.uuid, o.name, v.name, p.code FROM parcel p JOIN operator o ON o.uuid=p.operator"
            " JOIN village v ON v.uuid=p.village WHERE p.deleted=0 AND o.deleted=0 AND upper(p.code) LIKE ?"
            " ORDER BY p.code LIMIT ?", (like, limit)):
        hits.setdefault(uuid, SearchHit(uuid, name, village, f"地块：{code}"))
    return list(hits.values())[:limit]
