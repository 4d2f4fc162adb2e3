"""The few questions the domain rules ask the store, as one narrow interface.

`validation.py` takes plain values and asks only these; the laptop's SQLite store answers them
here (`SqliteQueries`), the server's PostgreSQL store in `wq_server/pg_store.py`. So a rule is
written once and holds on the laptop and on either server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Row = dict[str, Any]


class RecordQueries(Protocol):
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

    def notice_period(self, operator: str, year: int) -> tuple[str, str | None, str | None] | None:
        """(village name, notice start, notice end) for the operator's village and year; None
        when the operator is unknown."""


def _dicts(cur: Any) -> Row | None:
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


class SqliteQueries:
    """The rules' questions on one SQLite connection. `row_cache` gives the batch writer's cache
    of looked-up rows (see Store._apply_many): (rows by (kind, uuid), the kind being written)."""

    def __init__(self, conn: Any,
                 row_cache: Callable[[], tuple[dict[tuple[str, str], Any], str] | None] = lambda: None
                 ) -> None:
        self.conn = conn
        self._row_cache = row_cache

    def live_row(self, kind_name: str, record_uuid: str) -> Row | None:
        cache = self._row_cache()
        key = (kind_name, record_uuid)
        if cache is not None and kind_name != cache[1] and key in cache[0]:
            return cache[0][key]  # a batch write of another kind is running: this row cannot change
        found = _dicts(self.conn.execute(f'SELECT * FROM "{kind_name}" WHERE uuid=? AND deleted=0',
                                         (record_uuid,)))
        if cache is not None and kind_name != cache[1]:
            cache[0][key] = found
        return found

    def unique_clash(self, kind_name: str, record_uuid: str, values: dict[str, Any]) -> str | None:
        where = " AND ".join(f'"{c}" IS ?' for c in values)
        row = self.conn.execute(f'SELECT uuid FROM "{kind_name}" WHERE deleted=0 AND uuid<>? AND {where}',
                                (record_uuid, *values.values())).fetchone()
        return row[0] if row else None

    def id_holder(self, village: str, id_code: str, record_uuid: str | None) -> tuple[str, str] | None:
        row = self.conn.execute(
            "SELECT o.name, v.name FROM operator o JOIN village v ON v.uuid=o.village"
            " WHERE o.deleted=0 AND o.id_code=? AND o.uuid IS NOT ? AND v.township="
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
