"""进度: each township (and its villages) against the plan's deadlines for a work year.

Nothing is counted here: the milestones' figures come from `plan_calendar` (the desktop
dashboard's 工作进度), the signed households and posted notices from `summary.summarize` (the
printed 三级汇总表), the structure from `queries.navigation.navigation_tree`. This module only lays them out
per township and adds villages up into their township.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from wq_desktop import plan_calendar, summary
from wq_desktop.queries import navigation
from wq_desktop.store import Store


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    due: date


@dataclass
class Cell:
    done: int = 0
    total: int = 0
    overdue: bool = False
    no_data: bool = True
    changed: str = ""  # UTC ISO time of the latest write to what it counts; "" never written

    @property
    def state(self) -> str:
        """CSS class and meaning: done / overdue / under way / nothing known yet."""
        if self.no_data:
            return "nodata"
        if self.done >= self.total:
            return "done"
        return "overdue" if self.overdue else "underway"

    @property
    def changed_on(self) -> str:
        """The local date of the last change, as the office reads it ("" when never)."""
        if not self.changed:
            return ""
        try:
            return datetime.fromisoformat(self.changed.replace("Z", "+00:00")).astimezone().strftime(
                "%Y-%m-%d")
        except ValueError:
            return self.changed[:10]

    def add(self, other: Cell) -> None:
        self.done += other.done
        self.total += other.total
        self.no_data = self.no_data and other.no_data
        self.changed = max(self.changed, other.changed)


@dataclass
class Row:
    uuid: str
    code: str
    name: str
    level: str  # "township" | "village"
    cells: dict[str, Cell] = field(default_factory=dict)
    villages: list[Row] = field(default_factory=list)


# The office's columns: the plan's milestones for 核实, 落图, 包联清单 and patrols, and the
# printed summary's 签约 and 公示 (both due with the agreements, 8月10日).
MILESTONE_COLUMNS = {"verify": "核实", "mapping": "落图", "decide": "包联清单",
                     "patrol_autumn": "秋翻巡查", "patrol_winter": "冬压巡查",
                     "patrol_spring": "春播巡查"}
SIGNED, POSTED = "signed", "notice"


def columns(year: int) -> list[Column]:
    stones = {m.key: m for m in plan_calendar.milestones(year)}
    due = stones["agreements"].due
    out = [Column(k, t, stones[k].due) for k, t in MILESTONE_COLUMNS.items() if not k.startswith("patrol")]
    out += [Column(SIGNED, "协议签订", due), Column(POSTED, "村级公示", due)]
    out += [Column(k, t, stones[k].due) for k, t in MILESTONE_COLUMNS.items() if k.startswith("patrol")]
    return out


def progress_rows(store: Store, year: int, township: str | None = None,
                  today: date | None = None) -> list[Row]:
    """One row per township (only `township`, a UUID, if given), its villages below it."""
    today = today or date.today()
    cols = columns(year)
    due = {c.key: c.due for c in cols}
    stones: dict[tuple[str, str], plan_calendar.Progress] = {
        (p.village, p.milestone.key): p
        for p in plan_calendar.progress(store, year, today, township=township)}
    changed = plan_calendar.last_changed(store, year, township)
    root = summary.summarize(store, year, township)
    by_code = {s.code: s for s in root.walk() if s.level == "village"}
    rows = []
    for t in navigation.navigation_tree(store):
        if township and t.uuid != township:
            continue
        trow = Row(t.uuid, t.code, t.name, "township", {c.key: Cell() for c in cols})
        for v in t.villages:
            vrow = Row(v.uuid, v.code, v.name, "village")
            measured = not stones[(v.uuid, "verify")].no_data
            for c in cols:
                if c.key in MILESTONE_COLUMNS:
                    p = stones[(v.uuid, c.key)]
                    cell = Cell(p.done, p.total, p.overdue, p.no_data)
                else:
                    s = by_code[v.code]
                    done, total = ((s.signed, s.households) if c.key == SIGNED
                                   else (s.villages_publicized, s.villages))
                    cell = Cell(done, total, today > c.due and done < total, not measured)
                when_key = "agreements" if c.key == SIGNED else c.key
                cell.changed = changed.get((v.uuid, when_key), "")
                vrow.cells[c.key] = cell
                trow.cells[c.key].add(cell)
            trow.villages.append(vrow)
        for c in cols:
            cell = trow.cells[c.key]
            cell.overdue = today > due[c.key] and cell.done < cell.total
        rows.append(trow)
    return rows
