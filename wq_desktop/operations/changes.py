"""What one operation changed: the description a window broadcasts once and each view reads to
decide what to redraw (as Anki's OpChanges does), made from the records the store wrote."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Concatenate, ParamSpec

from ..errors import WqError
from ..store import Store, Written

P = ParamSpec("P")
# Kinds whose records hang on a parcel: a change to one redraws that parcel on the map.
_ON_A_PARCEL = ("measure", "patrol")


def _frozen(d: Mapping[str, Iterable[str]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({k: frozenset(v) for k, v in d.items() if v})


@dataclass(frozen=True)
class Changes:
    """`operation`: the name of what was done (save_operator, apply_pull …); `records`: the UUIDs
    written, by kind; `fields`: the names of the fields that changed, by kind (a tombstone or its
    lifting counts as "deleted"); `parcels`: the parcels whose map feature may look different
    (parcels written, and the parcels of measures and patrols written); `result`: what the
    operation returns besides (a new record's UUID, a sync report)."""

    operation: str
    records: Mapping[str, frozenset[str]] = field(default_factory=dict)
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    parcel_ids: frozenset[str] = frozenset()
    result: Any = None

    def touches(self, *kinds: str) -> bool:
        return any(k in self.records for k in kinds)

    def ids(self, kind: str) -> frozenset[str]:
        return self.records.get(kind, frozenset())

    def changed_fields(self, kind: str) -> frozenset[str]:
        return self.fields.get(kind, frozenset())

    def parcels(self) -> frozenset[str]:
        return self.parcel_ids

    @property
    def empty(self) -> bool:
        return not self.records

    def count(self) -> int:
        return sum(len(v) for v in self.records.values())

    def __bool__(self) -> bool:  # an operation that ran is truthy, even when it changed nothing
        return True

    @classmethod
    def of(cls, store: Store, operation: str, written: Iterable[Written], result: Any = None
           ) -> Changes:
        records: dict[str, set[str]] = {}
        fields: dict[str, set[str]] = {}
        for kind, uuid, names in written:
            records.setdefault(kind, set()).add(uuid)
            fields.setdefault(kind, set()).update(names)
        parcels = set(records.get("parcel", ()))
        for kind in _ON_A_PARCEL:
            for uuid in records.get(kind, ()):
                try:
                    parcels.add(store.get(kind, uuid, include_deleted=True)["parcel"])
                except WqError:
                    continue
        parcels.discard(None)  # type: ignore[arg-type]  # a patrol of no one parcel
        return cls(operation, _frozen(records), _frozen(fields), frozenset(parcels), result)

    def merged(self, other: Changes, operation: str | None = None) -> Changes:
        """Both descriptions in one (a sync's push and pull pages, say)."""
        records = {k: self.ids(k) | other.ids(k) for k in {*self.records, *other.records}}
        fields = {k: self.changed_fields(k) | other.changed_fields(k)
                  for k in {*self.fields, *other.fields}}
        return Changes(operation or self.operation, _frozen(records), _frozen(fields),
                       self.parcel_ids | other.parcel_ids,
                       other.result if other.result is not None else self.result)


@contextmanager
def recorded(store: Store, operation: str, *, atomic: bool = True):  # type: ignore[no-untyped-def]
    """`with recorded(store, "save_operator") as done: …; done.result = uuid` then `done.changes`.
    `atomic`: the whole operation in one transaction (imports and sync keep their own)."""
    box = _Recording(store, operation)
    with store.recording() as written:
        if atomic:
            with store.transaction():
                yield box
        else:
            yield box
    box.changes = Changes.of(store, operation, written, box.result)


class _Recording:
    def __init__(self, store: Store, operation: str) -> None:
        self.store, self.operation = store, operation
        self.result: Any = None
        self.changes: Changes | None = None


def save_record(store: Store, kind: str, uuid: str | None, values: dict[str, Any], *,
                base_rev: int | None = None) -> str:
    """A form's save: create the record (uuid None) or change its fields against the revision
    the form was opened at; returns its UUID."""
    if uuid is None:
        return store.create(kind, values)
    store.update(kind, uuid, values, base_rev=base_rev)
    return uuid


def operation(fn: Callable[Concatenate[Store, P], Any]) -> Callable[Concatenate[Store, P], Changes]:
    """Make a core function that writes through the store into a named operation: it runs in one
    transaction and returns the Changes it made, its own return value as `result`."""

    def run(store: Store, /, *args: P.args, **kwargs: P.kwargs) -> Changes:
        with recorded(store, fn.__name__) as done:
            done.result = fn(store, *args, **kwargs)
        assert done.changes is not None
        return done.changes

    run.__name__ = fn.__name__
    run.__qualname__ = fn.__qualname__
    run.__doc__ = fn.__doc__
    run.__wrapped__ = fn  # type: ignore[attr-defined]
    return run
