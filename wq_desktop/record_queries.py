"""The few questions the domain rules ask the store, as one narrow interface.

`validation.py` takes plain values and asks only these; the laptop's SQLite store answers them
here (`SqlQueries` on its connection), the server's PostgreSQL store with the same class on a
session that takes the same SQL (`wq_server/pg_store.py`). So a rule is written once and holds on
the laptop and on either server.
"""

from __future__ import annotations

from typing import Any, Protocol

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
        batch = self.batch._unique_keys
        if batch is not None and batch[0] == kind_name:
            return self._unique_in_batch(kind_name, record_uuid, values, batch[1])
        where = " AND ".join(f'"{c}" {self.equal} ?' for c in values)
        row = self.conn.execute(f'SELECT uuid FROM "{kind_name}" WHERE deleted=0 AND uuid<>? AND {where}'
                                " LIMIT 1", (record_uuid, *values.values())).fetchone()
        return row[0] if row else None

    def _unique_in_batch(self, kind_name: str, record_uuid: str, values: dict[str, Any],
                         keys: dict[tuple[str, ...], dict[tuple, str]]) -> str | None:
        """unique_clash while a batch creates many records of this kind: the live keys read
        once, then each new record's key added (a refused record rolls the whole batch back).
        Python's == on None matches SQL's IS."""
        columns = tuple(values)
        index = keys.get(columns)
        if index is None:
            names = ", ".join(f'"{c}"' for c in columns)
            index = keys[columns] = {tuple(row[1:]): row[0] for row in self.conn.execute(
                f'SELECT uuid, {names} FROM "{kind_name}" WHERE deleted=0')}
        key = tuple(values.values())
        clash = index.get(key)
        if clash is not None and clash != record_uuid:
            return clash
        index[key] = record_uuid
        return None

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


def queries_of(source: Any) -> RecordQueries:
    """A Store's queries (it carries them as `.queries`), or the queries object itself."""
    return getattr(source, "queries", source)
