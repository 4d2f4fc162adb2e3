"""A fictional demo township, generated from a seed so every run gives the same store.

Every village name carries （演示）; ID numbers have valid checksums under the unassigned area code
652399 and credit codes use the same region, so no number can belong to a real person or body.
Parcels are laid out in non-overlapping rows of jittered quadrilaterals near 87.3°E, 44.0°N.
"""

from __future__ import annotations

import logging
import math
import random
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from shapely.geometry import Point, Polygon

from . import figures, services, water
from .errors import WqError
from .geo import projection
from .model import (
    AgreementStatus,
    ContactRole,
    LandAttribute,
    LeaderLevel,
    MeasureKind,
    OperatorKind,
    PatrolResult,
    PatrolStage,
)
from .photos import attach_photo
from .rules import identity
from .store import Store
from .targets import PLAN_YEARS

log = logging.getLogger(__name__)

DEMO_AREA_CODE = "652399"  # not in GB/T 2260: no real person's ID starts with it
TOWNSHIP = ("652301105", "六工镇")
VILLAGES = ("示范东三工村（演示）", "示范新渠村（演示）", "示范十二户村（演示）")
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯"
            "邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = "建国军华明志强玉兰秀英春梅海涛永福桂芳红霞立新德胜文静宏伟金凤振东云秀丽娟小龙保平学军淑珍"
MINORITY_NAMES = ("阿依古丽·买买提", "努尔兰·哈力木", "古丽娜尔·吐尔逊", "艾合买提·托乎提",
                  "叶尔兰·别克", "热依汗·阿不都")
CROPS = ("棉花", "玉米", "小麦", "番茄", "葵花", "打瓜")
PLACE_NAMES = ("东大渠", "西梁", "老井边", "南滩", "二支渠", "苇湖", "沙窝子", "北干渠")
# 亩均需水量 (m³/亩) under drip irrigation, demo values of the right order for northern Xinjiang.
WATER_QUOTAS = {"棉花": 380.0, "玉米": 420.0, "小麦": 320.0, "番茄": 400.0, "葵花": 260.0, "打瓜": 220.0,
                "蔬菜": 350.0, "葡萄": 450.0}
# 庭院种植: what households grow beside the house (weights), in 亩.
COURTYARD_CROPS = ("蔬菜", "蔬菜", "蔬菜", "玉米", "葡萄")
RETIRE_RATE = 400.0  # 元/亩, a demo parameter: no official Changji rate is published
FALLOW_RATE = 300.0


@dataclass(frozen=True)
class DemoSize:
    households_per_village: int = 52
    seed: int = 20210827  # the plan's date


def demo_year(today: date | None = None) -> int:
    """The latest year whose whole demo calendar (agreements to 冬压 patrols) lies in the past."""
    today = today or date.today()
    return today.year if today >= date(today.year, 11, 21) else today.year - 1


def demo_id_number(rng: random.Random, taken: set[str]) -> str:
    """A fictional ID number not in `taken` (one person, one number in a township: the store refuses
    a second), added to it. A township of 3,500 people drawn from 18 million numbers meets a
    repeat about one time in three, so a repeat is drawn again."""
    while True:
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
        first17 = f"{DEMO_AREA_CODE}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
        number = first17 + identity.id_check_char(first17)
        if number not in taken:
            taken.add(number)
            return number


def demo_credit_code(rng: random.Random, prefix: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = prefix + DEMO_AREA_CODE + "".join(rng.choice(alphabet) for _ in range(9))
    return first17 + identity.credit_check_char(first17)


def operator_values(rng: random.Random, kind: OperatorKind, h: int, village: str, groups: list[str],
                    leaders: list[str], staff: list[str], taken: set[str], *,
                    numbered: bool = False) -> dict[str, Any]:
    """The `h`-th household of a demo village: a fictional person (name, ID number under the
    unassigned area code, phone) or a cooperative / the village collective with a credit code.
    The one generator of demo people, for the small demo and the township/city data sets;
    `taken` holds the township's ID numbers so far; `numbered` puts the household number into a
    cooperative's name (unique at scale)."""
    values: dict[str, Any] = {
        "village": village, "group": groups[h % len(groups)], "kind": kind, "phone": _phone(rng),
        "address": f"{h + 1}号院（演示）", "leader": leaders[h % len(leaders)],
        "staff": staff[h % len(staff)]}
    if kind == OperatorKind.FARMER:
        values.update(name=_name(rng), id_code=demo_id_number(rng, taken))
    elif kind == OperatorKind.COOPERATIVE:
        number = str(h) + "号" if numbered else ""
        values.update(name=f"{rng.choice(PLACE_NAMES)}{number}种植专业合作社（演示）",
                      id_code=demo_credit_code(rng, "93"), legal_rep=_name(rng))
    else:
        values.update(name="村股份经济合作社（演示）", id_code=demo_credit_code(rng, "N2"))
    return values


def _name(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return rng.choice(MINORITY_NAMES)
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(0, 10)}{rng.randrange(0, 10**8):08d}"


def _parcel_shapes(rng: random.Random, origin: tuple[float, float], count: int) -> list[Polygon]:
    """Rows of fields with 4 m lanes between them; corners jitter inward so no two ever touch."""
    ox, oy = origin
    shapes: list[Polygon] = []
    y = oy
    while len(shapes) < count:
        height = rng.uniform(110, 230)
        x = ox
        for _ in range(8):
            width = rng.uniform(90, 320)
            j = [rng.uniform(0, 10) for _ in range(8)]
            shapes.append(Polygon([
                (x + j[0], y + j[1]), (x + width - j[2], y + j[3]),
                (x + width - j[4], y + height - j[5]), (x + j[6], y + height - j[7])]))
            x += width + 4
            if len(shapes) == count:
                break
        y += height + 4
    return shapes


def _demo_photo(folder: Path, index: int) -> Path:
    """A small JPEG standing in for a field photo, with a fictional EXIF time."""
    from PIL import Image

    path = folder / f"demo_patrol_{index}.jpg"
    image = Image.new("RGB", (320, 240), (150 + index % 60, 130, 90))
    exif = image.getexif()
    exif[0x0132] = "2025:10:15 11:20:00"
    image.save(path, "JPEG", exif=exif)
    return path


def build_demo(store: Store, size: DemoSize = DemoSize(), year: int | None = None) -> None:
    """Fill an empty store with the demo township (one transaction)."""
    if store.count("township"):
        raise WqError("演示数据只能写入空数据库。")
    rng = random.Random(size.seed)
    year = year or demo_year()
    center = projection.transform(Point(87.30, 44.00), "EPSG:4326", store.crs)
    with store.transaction():
        store.set_meta("demo", "1")
        township = store.create("township", {"code": TOWNSHIP[0], "name": TOWNSHIP[1]})
        leaders = [store.create("contact", {
            "township": township, "role": ContactRole.LEADER, "name": name, "post": post,
            "phone": _phone(rng), "level": level})
            for name, post, level in (("马振东（演示）", "镇党委副书记", LeaderLevel.TOWNSHIP),
                                      ("刘海涛（演示）", "副镇长", LeaderLevel.TOWNSHIP),
                                      ("周立新（演示）", "村党支部书记", LeaderLevel.VILLAGE))]
        staff = [store.create("contact", {
            "township": township, "role": ContactRole.STAFF, "name": _name(rng) + "（演示）",
            "post": "农业发展服务中心", "phone": _phone(rng)}) for _ in range(6)]
        id_codes: set[str] = set()
        for v_index, village_name in enumerate(VILLAGES):
            village = store.create("village", {"township": township,
                                               "code": f"{TOWNSHIP[0]}{901 + v_index}",
                                               "name": village_name})
            groups = [store.create("village_group", {"village": village, "name": f"{n}组"})
                      for n in ("一", "二", "三")]
            origin = (center.x - 2500 + v_index * 2400, center.y - 1500 + (v_index % 2) * 600)
            # The notice comes first: an agreement is 已公示 only through it, on its last day.
            notice_end = date(year, 8, 7 + v_index)
            store.create("notice", {"village": village, "year": year,
                                    "start_on": date(year, 8, 1 + v_index),
                                    "end_on": notice_end, "objection_count": 0})
            _fill_village(store, rng, year, village, groups, origin, size, leaders, staff, notice_end,
                          id_codes)
        for quota_year in (PLAN_YEARS[0], year - 1, year):
            for crop, quota in WATER_QUOTAS.items():
                water.set_quota(store, township, quota_year, crop, quota)
        with tempfile.TemporaryDirectory() as photo_folder:
            _add_patrols(store, rng, year, Path(photo_folder))
        # The plan's own numbers, from a stream of their own so the records above stay as they were.
        plan_rng = random.Random(size.seed + 1)
        _add_courtyards(store, plan_rng, year)
        _add_earlier_years(store, plan_rng, year)
        add_targets(store, year)


def _fill_village(store: Store, rng: random.Random, year: int, village: str, groups: list[str],
                  origin: tuple[float, float], size: DemoSize, leaders: list[str],
                  staff: list[str], publicized_on: date, id_codes: set[str]) -> None:
    households = size.households_per_village
    parcels_per = [rng.choice((1, 2, 3, 3, 4)) for _ in range(households)]
    shapes = iter(_parcel_shapes(rng, origin, sum(parcels_per)))
    statuses = list(AgreementStatus)
    for h in range(households):
        kind = OperatorKind.FARMER
        if h == households - 1:
            kind = OperatorKind.VILLAGE_COLLECTIVE
        elif h % 17 == 5:
            kind = OperatorKind.COOPERATIVE
        operator = store.create("operator", operator_values(rng, kind, h, village, groups, leaders,
                                                            staff, id_codes))
        retiring = False
        for p in range(parcels_per[h]):
            attribute = rng.choices(list(LandAttribute), weights=(70, 18, 12))[0]
            parcel = store.create("parcel", {
                "village": village, "operator": operator, "code": f"{h + 1:03d}-{p + 1}",
                "place_name": rng.choice(PLACE_NAMES), "land_attribute": attribute,
                "east": "渠道", "south": "机耕道", "west": "林带", "north": "邻户耕地",
                "geometry": next(shapes), "water_source": f"机电井 J{rng.randrange(1, 90):02d}",
                "crop": rng.choice(CROPS)})
            area = store.get("parcel", parcel)["area_mu"]
            for measure_year in (year - 1, year):
                roll = rng.random()
                if roll < 0.22 or (attribute == LandAttribute.STATE_OUTSIDE and roll < 0.6):
                    services.set_measure(store, parcel, measure_year, MeasureKind.RETIRED, area,
                                         RETIRE_RATE)
                    retiring |= measure_year == year
                elif roll < 0.32:
                    services.set_measure(store, parcel, measure_year, MeasureKind.FALLOW, area,
                                         FALLOW_RATE)
                    retiring |= measure_year == year
                elif roll < 0.40:
                    half = figures.area_of_record(figures.to_decimal(area) / 2)
                    services.set_measure(store, parcel, measure_year, MeasureKind.RETIRED, str(half),
                                         RETIRE_RATE)
                    services.set_measure(store, parcel, measure_year, MeasureKind.PLANTED,
                                         str(figures.to_decimal(area) - half))
                    retiring |= measure_year == year
                else:
                    services.set_measure(store, parcel, measure_year, MeasureKind.PLANTED, area)
        if retiring:
            _agreement(store, operator, year, statuses[h % len(statuses)], publicized_on)


def _agreement(store: Store, operator: str, year: int, status: AgreementStatus,
               publicized_on: date) -> None:
    agreement = services.start_agreement(store, operator, year, date(year, 7, 15))
    steps = {AgreementStatus.SIGNED: date(year, 7, 28), AgreementStatus.PUBLICIZED: publicized_on,
             AgreementStatus.FILED: date(year, 8, 10)}
    if status == AgreementStatus.TERMINATED:
        services.advance_agreement(store, agreement, AgreementStatus.SIGNED, steps[AgreementStatus.SIGNED])
        services.advance_agreement(store, agreement, status, date(year, 8, 5), "经营者放弃退减（演示）")
        return
    for step, on in steps.items():
        if list(AgreementStatus).index(step) > list(AgreementStatus).index(status):
            break
        services.advance_agreement(store, agreement, step, on)


def _add_patrols(store: Store, rng: random.Random, year: int, photo_folder: Path) -> None:
    # In creation order (not by UUID, which is random), so the same seed gives the same patrols.
    retired = list(dict.fromkeys(r["parcel"] for r in store.find("measure", "year=? AND kind<>?",
                                                                 (year, MeasureKind.PLANTED))))
    names = [c["name"] for c in store.find("contact", "role=?", (ContactRole.STAFF,))]
    photo_index = 0
    for i, parcel in enumerate(retired):
        for stage, month, share in ((PatrolStage.AUTUMN_PLOUGH, 10, 0.7),
                                    (PatrolStage.WINTER_IRRIGATION, 11, 0.45)):
            if rng.random() > share:
                continue
            visited = date(year, month, rng.randrange(3, 20))
            values = {"parcel": parcel, "year": year, "stage": stage, "visited_on": visited,
                      "patrollers": rng.sample(names, 2), "escort": "村委会干部（演示）",
                      "ground_state": ["已翻耕"] if stage == PatrolStage.AUTUMN_PLOUGH else ["未动"],
                      "well_state": ["封存完好"], "result": PatrolResult.COMPLIANT}
            if i % 23 == 7:
                values.update(result=PatrolResult.IRRIGATED, irrigation_signs=["湿土", "积水"],
                              well_state=["铅封破损"], description="地块有灌溉痕迹，机井铅封破损（演示）",
                              rect_requirement="立即停止灌溉，重新铅封机井",
                              rect_deadline=visited + timedelta(days=7), rect_responsible=names[0],
                              rect_action="劝导")
                if i % 2:
                    values.update(recheck_on=visited + timedelta(days=6),
                                  recheck_result="已停止灌溉，机井重新铅封",
                                  closed_on=visited + timedelta(days=6))
            patrol = store.create("patrol", values)
            if photo_index < 6:
                attach_photo(store, "patrol", patrol, _demo_photo(photo_folder, photo_index))
                photo_index += 1


def courtyard_rows(rng: random.Random, farmers: list[str], years: list[int]) -> list[dict[str, Any]]:
    """庭院种植 of demo households: about half the farming households grow a little beside the
    house, the same crops and area every year. Used by the small demo and the data sets."""
    rows: list[dict[str, Any]] = []
    for operator in farmers:
        if rng.random() < 0.5:
            crops = rng.sample(COURTYARD_CROPS, rng.choice((1, 1, 2)))
            for crop in dict.fromkeys(crops):
                area = round(rng.uniform(0.2, 1.5), 2)
                rows += [{"operator": operator, "year": y, "crop": crop, "area_mu": area}
                         for y in years]
    return rows


def _add_courtyards(store: Store, rng: random.Random, year: int) -> None:
    farmers = [o["uuid"] for o in store.find("operator", "kind=?", (OperatorKind.FARMER,))]
    for row in courtyard_rows(rng, farmers, [year - 1, year]):
        store.create("courtyard", row)


def _add_earlier_years(store: Store, rng: random.Random, year: int) -> None:
    """From 2021 to the year before last: 实际种植 on every parcel, and 退减灌溉 growing year by
    year ("前轻后重、分年推进") under filed agreements, so the five-year view has real content."""
    villages = store.find("village", order_by="code")
    for past in range(PLAN_YEARS[0], year - 1):
        share = 0.06 + 0.05 * (past - PLAN_YEARS[0])
        for index, village in enumerate(villages):
            notice_end = date(past, 8, 7 + index)
            store.create("notice", {"village": village["uuid"], "year": past,
                                    "start_on": date(past, 8, 1 + index), "end_on": notice_end,
                                    "objection_count": 0})
            retiring: list[str] = []
            for parcel in store.find("parcel", "village=?", (village["uuid"],)):
                if rng.random() < share:
                    services.set_measure(store, parcel["uuid"], past, MeasureKind.RETIRED,
                                         parcel["area_mu"], RETIRE_RATE)
                    retiring.append(parcel["operator"])
                else:
                    services.set_measure(store, parcel["uuid"], past, MeasureKind.PLANTED,
                                         parcel["area_mu"])
            for operator in dict.fromkeys(retiring):
                _agreement(store, operator, past, AgreementStatus.FILED, notice_end)


def add_targets(store: Store, year: int, first_year: int = PLAN_YEARS[0]) -> None:
    """Each township's target for every year after `first_year` a little under the year before's
    water use; this year's village targets near what was done, next year's plan larger. Also used
    by the township- and city-size demo stores."""
    from .planting import planting_survey
    from .targets import set_village_target, set_water_target, water_target
    from .water_use import water_use

    for past in range(first_year, year + 1):
        for township in water_use(store, past).children:
            target = round(float(township.water_wan_m3) * 0.97, 2)
            set_water_target(store, township.uuid, past + 1, target, round(target * 0.8, 2))
    survey = water_use(store, year)
    planting = planting_survey(store, year)
    for t_area, t_use in zip(planting.children, survey.children, strict=True):
        totals = {y: float(water_target(store, t_area.uuid, y)["total_wan_m3"]) for y in (year, year + 1)}
        for village, use in zip(t_area.children, t_use.children, strict=True):
            # This year: what the township had planned (rounded up to 10 亩), so progress is < 100 %.
            retired = -(-float(village.retired_mu) // 10) * 10 + 10
            fallow = -(-float(village.fallow_mu) // 10) * 10
            # 细化到村: the township's water in proportion to each village's use, rounded down so
            # the villages never add up to more than the township's target.
            share = float(use.water_wan_m3) / float(t_use.water_wan_m3) if t_use.water_wan_m3 else 0
            for target_year, planned in ((year, retired), (year + 1, retired * 1.25)):
                set_village_target(store, village.uuid, target_year, planned, fallow,
                                   math.floor(totals[target_year] * share * 100) / 100)


def create_demo_store(path: str | Path, user: str = "演示用户") -> Store:
    """Create a new store file with the demo township; refuses to touch an existing file."""
    path = Path(path)
    if path.exists():
        raise WqError(f"文件已存在，演示数据不会覆盖它：{path}")
    store = Store.open(path, user, create=True)
    try:
        build_demo(store)
    except BaseException:
        store.close()
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        raise
    log.info("demo store created: %s (%d operators, %d parcels)", path.name,
             store.count("operator"), store.count("parcel"))
    return store
