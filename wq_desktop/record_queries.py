"""The few questions the domain rules ask the store, as one narrow interface.

`validation.py` takes plain values and asks only these; the laptop's SQLite store answers them
here (`SqlQueries` on its connection), the server's PostgreSQL store with the same class on a
session that takes the same SQL (`wq_server/pg_store.py`). So a rule is written once and holds on
the laptop and on either server.
"""

from __future__ import annotations

from typing import Any, Protocol

from . import sqldriver
from .schema import kind

Row = dict[str, Any]


class RecordQueries(Protocol):
    @property
    def conn(self) -> Any:
        """The connection, with every row written so far in it (rules that run their own SQL,
        such as supervision's, take it from here too)."""
        self.batch._flush_inserts()
        return self._conn

    def live_row(self, kind_name: str, record_uuid: str) -> Row | None:
        """The record's stored columns, if it exists and is not deleted."""

    def unique_clash(self, kind_name: str, record_uuid: str, values: dict[str, Any]) -> str | None:
        """Another live record of the kind with these column values (NULL equals NULL)."""

    def id_holder(self, village: str, id_code: str, record_uuid: str | None) -> tuple[str, str] | None:
        """(operator name, village name) of another live operator of the village's township
        holding this ID number, the first by village code and name."""

    def measure_areas(self, parcel: str, year: int | None = None,
                      but: str | None = None) -> list[float]:
        """Areas of the live measures of a parcel (of one year; leaving one record out)."""

    def measure_years(self, parcel: str) -> list[int]:
        """Years in which the parcel has live measures."""

    def agreement_serial(self, operator: str, year: int) -> tuple[str, int]:
        """(village code, agreements of the village in the year, deleted ones counted)."""

    def outline_facts(self, wkb: bytes) -> Any:
        """(WKB, area in 亩, bbox) of a stored outline (a batch writer may hold them already)."""

    def notice_period(self, operator: str, year: int) -> tuple[str, str | None, str | None] | None:
        """(village name, notice start, notice end) for the operator's village and year; None
        when the operator is unknown."""


def _dicts(cur: Any) -> Row | None:
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


class NoBatch:
    """SqlQueries' batch hooks where no batch writer runs: nothing held back, no keys or shapes
    kept; at most rows already looked up (`row_cache`, in the form of `Store._row_cache`: the
    PostgreSQL server session gives the rows of its push)."""

    _unique_keys = _batch_shapes = None

    def __init__(self, row_cache: tuple[dict, str | None] | None = None) -> None:
        self._row_cache = row_cache

    def _flush_inserts(self) -> None:
        pass


class SqlQueries:
    """The rules' questions in SQL with `?` placeholders, on anything with `execute`: a SQLite
    connection, or the PostgreSQL server's session. `null_safe` spells SQL's NULL-safe equal and
    unequal (SQLite: IS / IS NOT). `batch` is the Store whose batch writer's caches they use
    while it runs (see Store._apply_many): rows looked up (`_row_cache`), the unique keys of the
    kind being created (`_unique_keys`), shapes just encoded (`_batch_shapes`); every query
    first writes the batch's rows still held back (`_flush_inserts`)."""

    def __init__(self, conn: Any, batch: Any = None,
                 null_safe: tuple[str, str] = ("IS", "IS NOT")) -> None:
        self._conn = conn
        self.batch = batch if batch is not None else NoBatch()
        self.equal, self.unequal = null_safe

    @property
    def conn(self) -> Any:
        """The connection, with every row written so far in it (rules that run their own SQL,
        such as supervision's, take it from here too)."""
        self.batch._flush_inserts()
        return self._conn

    def live_row(self, kind_name: str, record_uuid: str) -> Row | None:
        cache = self.batch._row_cache
        key = (kind_name, record_uuid)
        if cache is not None and kind_name != cache[1] and key in cache[0]:
            return cache[0][key]  # a batch write of another kind is running: this row cannot change
        found = _dicts(self.conn.execute(
            f'SELECT * FROM "{kind(kind_name).name}" WHERE uuid=? AND deleted=0', (record_uuid,)))
        if cache is not None and kind_name != cache[1]:
            cache[0][key] = found
        return found

    def unique_clash(self, kind_name: str, record_uuid: str, values: dict[str, Any]) -> str | None:
        held = self.batch._unique_keys
        if held is not None and held.kind == kind_name:
            return held.clash(self, record_uuid, values)
        return self.key_holder(kind_name, values, but=record_uuid)

    def key_holder(self, kind_name: str, values: dict[str, Any], but: str | None = None) -> str | None:
        """A live record of the kind (other than `but`) with these column values (NULL equals NULL)."""
        where = " AND ".join(f'"{c}" {self.equal} ?' for c in values)
        params = [*values.values()]
        if but is not None:
            where, params = f"uuid<>? AND {where}", [but, *params]
        row = self.conn.execute(f'SELECT uuid FROM "{kind_name}" WHERE deleted=0 AND {where} LIMIT 1',
                                params).fetchone()
        return row[0] if row else None

    def outline_facts(self, wkb: bytes) -> Any:
        """(WKB, area in 亩, bbox) of a stored outline: from the batch write that just computed
        them for the whole batch at once, else from the decoded shape."""
        shapes = self.batch._batch_shapes
        known = shapes.get(id(wkb)) if shapes is not None else None
        if known is not None and known[0] is wkb:
            return known
        from .geo import polygons

        shape = polygons.from_wkb(wkb)
        return wkb, polygons.area_mu(shape), polygons.bbox(shape)

    def id_holder(self, village: str, id_code: str, record_uuid: str | None) -> tuple[str, str] | None:
        row = self.conn.execute(
            "SELECT o.name, v.name FROM operator o JOIN village v ON v.uuid=o.village"
            f" WHERE o.deleted=0 AND o.id_code=? AND o.uuid {self.unequal} ? AND v.township="
            " (SELECT township FROM village WHERE uuid=?) ORDER BY v.code, o.name LIMIT 1",
            (id_code, record_uuid, village)).fetchone()
        return (row[0], row[1]) if row else None

    def measure_areas(self, parcel: str, year: int | None = None,
                      but: str | None = None) -> list[float]:
        sql, params = "SELECT area_mu FROM measure WHERE deleted=0 AND parcel=?", [parcel]
        if year is not None:
            sql, params = sql + " AND year=?", [*params, year]
        if but is not None:
            sql, params = sql + " AND uuid<>?", [*params, but]
        return [a for (a,) in self.conn.execute(sql, params)]

    def measure_years(self, parcel: str) -> list[int]:
        return [y for (y,) in self.conn.execute(
            "SELECT DISTINCT year FROM measure WHERE parcel=? AND deleted=0", (parcel,))]

    def agreement_serial(self, operator: str, year: int) -> tuple[str, int]:
        village_code, village_uuid = self.conn.execute(
            "SELECT v.code, v.uuid FROM operator o JOIN village v ON v.uuid = o.village WHERE o.uuid=?",
            (operator,)).fetchone()
        count = self.conn.execute(
            "SELECT count(*) FROM agreement a JOIN operator o ON o.uuid = a.operator"
            " WHERE o.village=? AND a.year=?", (village_uuid, year)).fetchone()[0]
        return village_code, count

    def notice_period(self, operator: str, year: int) -> tuple[str, str | None, str | None] | None:
        row = self.conn.execute(
            "SELECT v.name, n.start_on, n.end_on FROM operator o JOIN village v ON v.uuid=o.village"
            " LEFT JOIN notice n ON n.village=v.uuid AND n.year=? AND n.deleted=0 WHERE o.uuid=?",
            (year, operator)).fetchone()
        return (row[0], row[1], row[2]) if row else None


class HeldKeys:
    """The live unique keys of one kind while a batch creates many of its records: read at once
    instead of one query per new record, then each new record's key added as it is checked (or
    held, see `hold`), so the batch's own records clash with each other as stored ones would.

    Without `candidates` every live key of the kind is read (an import, as large as what it joins).
    With them (a pulled page, a few thousand records into a city's hundred thousand) only the keys
    the candidates carry are looked up, by the kind's index; a key asked that they did not carry
    (a value the rules changed) is queried when asked. Python's == on None matches SQL's IS."""

    def __init__(self, kind_name: str, candidates: list[dict[str, Any]] | None = None) -> None:
        self.kind = kind_name
        self.candidates = candidates
        # {columns: {key: the live record holding it, or None: asked, and none does}}
        self.indexes: dict[tuple[str, ...], dict[tuple, str | None]] = {}

    def clash(self, queries: SqlQueries, record_uuid: str, values: dict[str, Any]) -> str | None:
        columns = tuple(values)
        index = self._index(queries, columns)
        key = tuple(values.values())
        holder = self._holder(queries, columns, index, key)
        if holder is not None and holder != record_uuid:
            return holder
        index[key] = record_uuid
        return None

    def hold(self, queries: SqlQueries, row: dict[str, Any], record_uuid: str) -> None:
        """A live record written whose rules stopped before its keys were reached (the server's
        values win) still holds them, as its stored row would for the query."""
        for columns, index in self.indexes.items():
            key = tuple(row[c] for c in columns)
            if self._holder(queries, columns, index, key) is None:
                index[key] = record_uuid

    def _holder(self, queries: SqlQueries, columns: tuple[str, ...], index: dict[tuple, str | None],
                key: tuple) -> str | None:
        if key not in index:
            index[key] = (None if self.candidates is None  # every live key was read
                          else queries.key_holder(self.kind, dict(zip(columns, key, strict=True))))
        return index[key]

    def _index(self, queries: SqlQueries, columns: tuple[str, ...]) -> dict[tuple, str | None]:
        index = self.indexes.get(columns)
        if index is not None:
            return index
        if self.candidates is None:
            names = ", ".join(f'"{c}"' for c in columns)
            index = {tuple(row[1:]): row[0] for row in queries.conn.execute(
                f'SELECT uuid, {names} FROM "{self.kind}" WHERE deleted=0')}
        else:
            # Keys with a NULL are left to the query when asked (= never matches NULL).
            keys = list(dict.fromkeys(
                key for values in self.candidates
                if None not in (key := tuple(values.get(c) for c in columns))))
            index = dict.fromkeys(keys)
            # Each key probed through the kind's index on its columns (a join, so the planner
            # looks each one up instead of scanning the kind for a list).
            names = ", ".join(f'r."{c}"' for c in columns)
            on = " AND ".join(f'r."{c}"=k.column{i}' for i, c in enumerate(columns, 1))
            row_marks = f"({','.join('?' * len(columns))})"
            for _, chunk in sqldriver.in_lists(keys):
                index.update((tuple(row[1:]), row[0]) for row in queries.conn.execute(
                    f"SELECT r.uuid, {names} FROM (VALUES {','.join([row_marks] * len(chunk))}) AS k"
                    f' JOIN "{self.kind}" r ON {on} WHERE r.deleted=0',
                    [v for key in chunk for v in key]))
        self.indexes[columns] = index
        return index


def queries_of(source: Any) -> RecordQueries:
    """A Store's queries (it carries them as `.queries`), or the queries object itself."""
    return getattr(source, "queries", source)
