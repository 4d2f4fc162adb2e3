"""What can be printed from where: the documents of the catalog and, for each, the scopes the
current context allows (this household, this patrol, this village, the township)."""

from __future__ import annotations

from dataclasses import dataclass

from wq_desktop.printing.catalog import DOCUMENTS, Document
from wq_desktop.queries.navigation import own_township
from wq_desktop.store import Store

HOUSEHOLD, PATROL, VILLAGE, TOWNSHIP, BLANK = "household", "patrol", "village", "township", "blank"

# document key -> the scopes it can be printed for, in the order offered
DOCUMENT_SCOPES: dict[str, tuple[str, ...]] = {
    "agreement": (HOUSEHOLD, VILLAGE),
    "attachment": (HOUSEHOLD, VILLAGE),
    "notice": (VILLAGE,),
    "contacts": (VILLAGE, TOWNSHIP),
    "summary": (VILLAGE, TOWNSHIP),
    "patrol": (PATROL, HOUSEHOLD, VILLAGE, BLANK),
    "planting": (VILLAGE, TOWNSHIP),
}


@dataclass(frozen=True)
class Context:
    """Where the print center was opened from, with the names shown in the scope labels."""

    village: str | None = None  # UUIDs
    operator: str | None = None
    patrol: str | None = None
    village_name: str = ""
    operator_name: str = ""
    township_name: str = ""

    @classmethod
    def resolve(cls, store: Store, *, village: str | None, operator: str | None,
                patrol: str | None) -> Context:
        """Fill in what the given records imply: a patrol's household, a household's village."""
        if patrol and not operator:
            parcel = store.get("parcel", store.get("patrol", patrol)["parcel"])
            operator = parcel.get("operator") or None
            village = village or parcel["village"]
        operator_name = ""
        if operator:
            op = store.get("operator", operator)
            operator_name = op["name"]
            village = village or op["village"]
        village_name = township_name = ""
        if village:
            v = store.get("village", village)
            village_name = v["name"]
            township_name = store.get("township", v["township"])["name"]
        else:
            township = own_township(store)
            township_name = township["name"] if township else ""
        return cls(village, operator, patrol, village_name, operator_name, township_name)

    def default_document(self) -> str:
        if self.patrol:
            return "patrol"
        if self.operator:
            return "agreement"
        return "notice" if self.village else "summary"

    def available(self, scope: str) -> bool:
        return {HOUSEHOLD: bool(self.operator), PATROL: bool(self.patrol),
                VILLAGE: bool(self.village), TOWNSHIP: True, BLANK: True}[scope]

    def scopes(self, doc: str) -> list[tuple[str, str]]:
        """(scope, Chinese label) the document can be printed for here."""
        return [(s, self.label(doc, s)) for s in DOCUMENT_SCOPES[doc] if self.available(s)]

    def label(self, doc: str, scope: str) -> str:
        if scope == HOUSEHOLD:
            return f"本户：{self.operator_name}" + ("（空白巡查表）" if doc == "patrol" else "")
        if scope == PATROL:
            return "本条巡查记录（已填写）"
        if scope == VILLAGE:
            if doc in ("agreement", "attachment"):
                return f"本村全部协议：{self.village_name}"
            return f"本村：{self.village_name}" + ("（空白巡查表）" if doc == "patrol" else "")
        if scope == TOWNSHIP:
            return f"全乡镇：{self.township_name}" if doc == "contacts" else "全部（乡镇及各村）"
        return "空白表一张"

    def arguments(self, scope: str) -> dict[str, str | None]:
        """The village / operator / patrol arguments of render_document for a scope."""
        return {"village": self.village if scope == VILLAGE else None,
                "operator": self.operator if scope == HOUSEHOLD else None,
                "patrol": self.patrol if scope == PATROL else None}


def documents_for(context: Context) -> list[Document]:
    return [d for d in DOCUMENTS if context.scopes(d.key)]
