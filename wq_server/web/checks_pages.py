"""数据检查 of the whole city, grouped by township: the desktop's own checks (checks.CHECKS) run on
the server's store, which holds every township at once, so overlaps across township borders (that
no laptop can see) are found, and the same person registered in two townships.

At city size the checks take a while: they run in a thread of their own per year and scope, the
page shows how far they are and reloads itself; the result is kept until the change feed moves.
The history and security-log checks stay with the laptops (the server's own history is checked by
its admin), and the rules check re-validates every record: it runs on the laptops as they save.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import Response

from wq_desktop import checks
from wq_desktop.queries.navigation import township_of_place

from . import background
from .frame import YearParam, default_year, page, township_scope, web_store
from .read_model import ReadModel, read_model, snapshot
from .session import WebUser

CITY_CHECKS = ("missing", "overlaps", "duplicates", "fragmentation", "agreements", "terminated",
               "violations", "patrollers", "targets")
SHOWN_PER_GROUP = 100  # findings listed per township and check; the count says how many in all


@dataclass
class CityFindings:
    townships: list[dict] = field(default_factory=list)  # {uuid, name, count, groups: {check: [row]}}
    across: list[dict] = field(default_factory=list)  # overlaps across township borders
    total: int = 0


def _run(job: background.Job, model: ReadModel, user_name: str, year: int,
         scope: str | None) -> CityFindings:
    out = CityFindings()
    with snapshot(model, user_name) as store:
        findings: list[checks.Finding] = []
        for key in CITY_CHECKS:
            label, check = checks.CHECKS[key]
            job.step = f"正在检查：{label}…"
            findings += check(store, year)
        job.step = "正在按乡镇归类…"
        names = {t["uuid"]: t["name"] for t in store.find("township")}
        town_of: dict[str, str | None] = {}

        def town(kind: str | None, record: str | None) -> str | None:
            if not kind or not record:
                return None
            if record not in town_of:
                town_of[record] = township_of_place(store, kind, record)
            return town_of[record]

        grouped: dict[str | None, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for f in findings:
            t = town(f.kind, f.record)
            row = {"severity": str(f.severity), "message": f.message, "kind": f.kind,
                   "record": f.record}
            if f.other:
                other = town(f.kind, f.other)
                if other != t:
                    row["message"] += f"（跨乡镇：{names.get(t, '?')} ↔ {names.get(other, '?')}）"
                    if scope is None or scope in (t, other):
                        out.across.append(row)
            if scope is None or t == scope:
                grouped[t][f.check].append(row)
        order = sorted(grouped, key=lambda u: (u is None, names.get(u, "")))
        out.townships = [{"uuid": u, "name": names.get(u, "未归属乡镇"),
                          "count": sum(len(v) for v in grouped[u].values()),
                          "groups": {c: rows for c, rows in sorted(grouped[u].items())}}
                         for u in order]
        out.total = sum(t["count"] for t in out.townships)
    return out


def install(app: FastAPI) -> None:
    @app.get("/web/checks")
    def checks_page(request: Request, user: WebUser, year: YearParam = None) -> Response:
        if not year:
            with web_store(request, user) as store:
                year = default_year(store)
        scope, model = township_scope(user), read_model(request)
        job = background.job_for(request, ("checks", year, scope),
                                 lambda job: _run(job, model, user.name, year, scope))
        if not job.done or job.error:
            return page(request, "computing.html", user, heading=f"{year} 年度全市数据检查", job=job,
                        active="checks")
        return page(request, "checks.html", user, year=year, job=job, result=job.result,
                    shown=SHOWN_PER_GROUP, active="checks")
