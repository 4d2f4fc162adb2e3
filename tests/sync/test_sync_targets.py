"""The plan's own records travel between laptops: targets and 庭院种植 sync like the others."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from inproc import InProcessServer, household, seed_village

from wq_desktop import targets
from wq_desktop.planting import planting_survey, set_courtyard
from wq_desktop.store import Store


def test_targets_and_courtyard_sync_between_two_laptops(server: InProcessServer, tmp_path: Path) -> None:
    a = Store.open(tmp_path / "a.sqlite", "甲", create=True)
    b = Store.open(tmp_path / "b.sqlite", "乙", create=True)
    server.sync(a, "甲")
    server.sync(b, "乙")
    village = seed_village(a, server.township)
    operator = household(a, village)
    water = targets.set_water_target(a, server.township, 2026, 850.5, 600)
    plan = targets.set_village_target(a, village, 2026, 120.5, 40, 310.25)
    yard = set_courtyard(a, operator, 2026, "蔬菜", 0.8)
    report = server.sync(a, "甲")
    assert not report.rejected and a.pending_changes() == 0

    server.sync(b, "乙")
    assert b.get("water_target", water)["total_wan_m3"] == 850.5
    assert b.get("village_target", plan)["retired_mu"] == 120.5
    assert b.get("courtyard", yard)["area_mu"] == 0.8
    assert planting_survey(b, 2026).planted_mu == planting_survey(a, 2026).planted_mu == Decimal("0.80")

    # The township revises its target on the second laptop; the first one gets it, with history.
    targets.set_village_target(b, village, 2026, 130, 40, 310.25)
    server.sync(b, "乙")
    server.sync(a, "甲")
    assert a.get("village_target", plan)["retired_mu"] == 130
    entries = a.history(plan)
    assert [e.user for e in entries] == ["甲", "乙"]
    assert {r.name: r.target_retired_mu for r in targets.progress(a, 2026)} == {"测试村": 130}
    a.close()
    b.close()
