"""The plan's annual calendar (昌市政办发〔2021〕36号 §四) and each village's progress against it.

"Year" is the work year in which areas are verified, agreements signed and retired land patrolled.
The plan gives dates for verification, mapping, water accounts, decisions and agreements; it names
秋翻、冬压、春播 as patrol points without dates, so those due dates are defaults of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .model import AgreementStatus, MeasureKind, PatrolStage
from .store import Store


@dataclass(frozen=True)
class Milestone:
    key: str
    due: date
    title: str
    basis: str  # what the plan (or we, for patrols) say


@dataclass(frozen=True)
class Progress:
    milestone: Milestone
    village: str
    village_name: str
    done: int
    total: int
    overdue: bool
    # Nothing to count because the village has no measure at all this year: "not known yet",
    # not "nothing to do".
    no_data: bool = False

    @property
    def ratio(self) -> float:
        return self.done / self.total if self.total else 1.0


def milestones(year: int) -> list[Milestone]:
    return [
        Milestone("verify", date(year, 6, 20), "核实种植、退减、休耕面积",
                  "每年6月20日前完成实际种植、退减灌溉、休耕轮作面积核查汇总"),
        Milestone("mapping", date(year, 6, 25), "农业种植面积落图",
                  "每年6月25日前在矢量数据中标注四至界限坐标"),
        Milestone("water", date(year, 6, 30), "核算用水量",
                  "每年6月30日前逐级精准测算年度用水量（需各作物亩均需水量）"),
        Milestone("decide", date(year, 7, 10), "确定退减面积、建立包联清单",
                  "每年7月10日前逐级确定退减灌溉和休耕轮作面积，建立细化到户的包联责任落实清单"),
        Milestone("agreements", date(year, 8, 10), "签订协议、公示、报备",
                  "每年8月10日前签订协议，在村委会公示，并向领导小组办公室报备"),
        Milestone("patrol_autumn", date(year, 11, 15), "秋翻巡查",
                  "秋翻节点日常巡查（截止日期为本程序默认）"),
        Milestone("patrol_winter", date(year, 12, 20), "冬压巡查",
                  "冬压节点日常巡查（截止日期为本程序默认）"),
        Milestone("patrol_spring", date(year + 1, 5, 20), "春播巡查",
                  "次年春播节点日常巡查（截止日期为本程序默认）"),
    ]


Counter = Callable[[Store, str, int], tuple[int, int]]


def _one(store: Store, sql: str, params: tuple) -> int:
    return store.conn.execute(sql, params).fetchone()[0]


_PARCELS = "FROM parcel p WHERE p.deleted=0 AND p.village=?"
_HAS_MEASURE = "EXISTS(SELECT 1 FROM measure m WHERE m.parcel=p.uuid AND m.deleted=0 AND m.year=?)"
_RETIRING = ("EXISTS(SELECT 1 FROM measure m WHERE m.parcel=p.uuid AND m.deleted=0 AND m.year=?"
             f" AND m.kind<>'{MeasureKind.PLANTED}')")
_RETIRING_HOUSEHOLDS = ("FROM operator o WHERE o.deleted=0 AND o.village=? AND EXISTS(SELECT 1 FROM parcel p"
                        f" WHERE p.operator=o.uuid AND p.deleted=0 AND {_RETIRING})")


def _verify(store: Store, village: str, year: int) -> tuple[int, int]:
    return (_one(store, f"SELECT count(*) {_PARCELS} AND {_HAS_MEASURE}", (village, year)),
            _one(store, f"SELECT count(*) {_PARCELS}", (village,)))


def _mapping(store: Store, village: str, year: int) -> tuple[int, int]:
    return (_one(store, f"SELECT count(*) {_PARCELS} AND p.geometry IS NOT NULL", (village,)),
            _one(store, f"SELECT count(*) {_PARCELS}", (village,)))


def _water(store: Store, village: str, year: int) -> tuple[int, int]:
    quoted = ("EXISTS(SELECT 1 FROM water_quota q JOIN village v ON v.township=q.township"
              " WHERE v.uuid=p.village AND q.crop=p.crop AND q.year<=? AND q.deleted=0)")
    return (_one(store, f"SELECT count(*) {_PARCELS} AND {_HAS_MEASURE} AND {quoted}",
                 (village, year, year)),
            _one(store, f"SELECT count(*) {_PARCELS} AND {_HAS_MEASURE}", (village, year)))


def _decide(store: Store, village: str, year: int) -> tuple[int, int]:
    return (_one(store, f"SELECT count(*) {_RETIRING_HOUSEHOLDS} AND o.leader IS NOT NULL"
                        " AND o.staff IS NOT NULL", (village, year)),
            _one(store, f"SELECT count(*) {_RETIRING_HOUSEHOLDS}", (village, year)))


def _agreements(store: Store, village: str, year: int) -> tuple[int, int]:
    filed = ("EXISTS(SELECT 1 FROM agreement a WHERE a.operator=o.uuid AND a.deleted=0 AND a.year=?"
             f" AND a.status='{AgreementStatus.FILED}')")
    return (_one(store, f"SELECT count(*) {_RETIRING_HOUSEHOLDS} AND {filed}", (village, year, year)),
            _one(store, f"SELECT count(*) {_RETIRING_HOUSEHOLDS}", (village, year)))


def _patrolled(stage: PatrolStage) -> Counter:
    # A patrol's year is the work year it checks, even when 春播 falls in the next calendar year.
    def count(store: Store, village: str, year: int) -> tuple[int, int]:
        seen = ("EXISTS(SELECT 1 FROM patrol t WHERE t.parcel=p.uuid AND t.deleted=0 AND t.stage=?"
                " AND t.year=?)")
        return (_one(store, f"SELECT count(*) {_PARCELS} AND {_RETIRING} AND {seen}",
                     (village, year, stage, year)),
                _one(store, f"SELECT count(*) {_PARCELS} AND {_RETIRING}", (village, year)))
    return count


_COUNTERS: dict[str, Counter] = {
    "verify": _verify, "mapping": _mapping, "water": _water, "decide": _decide,
    "agreements": _agreements, "patrol_autumn": _patrolled(PatrolStage.AUTUMN_PLOUGH),
    "patrol_winter": _patrolled(PatrolStage.WINTER_IRRIGATION),
    "patrol_spring": _patrolled(PatrolStage.SPRING_SOWING),
}


def _villages(store: Store, township: str | None) -> list[tuple[str, str]]:
    where, params = ("AND township=?", (township,)) if township else ("", ())
    return store.conn.execute(
        f"SELECT uuid, name FROM village WHERE deleted=0 {where} ORDER BY code", params).fetchall()


def progress(store: Store, year: int, today: date | None = None,
             township: str | None = None) -> list[Progress]:
    """Every village (of `township`, a UUID, if given) against every milestone, in village-code
    then calendar order."""
    today = today or date.today()
    result = []
    villages = _villages(store, township)
    for village, name in villages:
        measured = bool(_one(store, "SELECT EXISTS(SELECT 1 FROM measure m JOIN parcel p ON p.uuid=m.parcel"
                                    " WHERE p.village=? AND p.deleted=0 AND m.deleted=0 AND m.year=?)",
                             (village, year)))
        for m in milestones(year):
            done, total = _COUNTERS[m.key](store, village, year)
            result.append(Progress(m, village, name, done, total, today > m.due and done < total,
                                   no_data=total == 0 and not measured))
    return result


# When each milestone's figure last changed: the latest write (an edit or a deletion) to the
# records it counts. Deleted rows are included because deleting one changes the figure too.
_IN_VILLAGE = "JOIN parcel p ON p.uuid={}.parcel WHERE p.village=?"
_PARCELS_CHANGED = "SELECT max(updated_at) FROM parcel WHERE village=?"
_CHANGED: dict[str, tuple[str, ...]] = {
    "verify": (f"SELECT max(m.updated_at) FROM measure m {_IN_VILLAGE.format('m')} AND m.year=?",
               _PARCELS_CHANGED),
    "mapping": (_PARCELS_CHANGED,),
    "water": (f"SELECT max(m.updated_at) FROM measure m {_IN_VILLAGE.format('m')} AND m.year=?",
              "SELECT max(q.updated_at) FROM water_quota q JOIN village v ON v.township=q.township"
              " WHERE v.uuid=? AND q.year<=?"),
    "decide": (f"SELECT max(m.updated_at) FROM measure m {_IN_VILLAGE.format('m')} AND m.year=?",
               "SELECT max(updated_at) FROM operator WHERE village=?"),
    "agreements": ("SELECT max(a.updated_at) FROM agreement a JOIN operator o ON o.uuid=a.operator"
                   " WHERE o.village=? AND a.year=?",),
    # Not a milestone of its own (公示 is part of "agreements"), but shown on its own by the office.
    "notice": ("SELECT max(updated_at) FROM notice WHERE village=? AND year=?",),
}
for _key, _stage in (("patrol_autumn", PatrolStage.AUTUMN_PLOUGH),
                     ("patrol_winter", PatrolStage.WINTER_IRRIGATION),
                     ("patrol_spring", PatrolStage.SPRING_SOWING)):
    _CHANGED[_key] = (f"SELECT max(t.updated_at) FROM patrol t {_IN_VILLAGE.format('t')} AND t.year=?"
                      f" AND t.stage='{_stage}'",)


def last_changed(store: Store, year: int, township: str | None = None) -> dict[tuple[str, str], str]:
    """(village UUID, milestone key) → the UTC time (ISO text) its figure last changed; absent
    when nothing it counts was ever written."""
    out: dict[tuple[str, str], str] = {}
    for village, _name in _villages(store, township):
        for key, statements in _CHANGED.items():
            times = [store.conn.execute(sql, (village, year)[:sql.count("?")]).fetchone()[0]
                     for sql in statements]
            latest = max((t for t in times if t), default=None)
            if latest:
                out[(village, key)] = latest
    return out
