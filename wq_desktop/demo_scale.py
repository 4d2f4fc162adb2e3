"""Demo data sets of real size: a township (≥ 12 villages, ≥ 3,000 households, ≥ 12,000 parcels)
and a city (eight townships, ≥ 100,000 parcels), for trying and measuring the program at scale.

Like the small demo (demo.py) everything is fictional and marked: villages carry （演示）, ID
numbers use the unassigned area code 652399, the store is flagged demo and watermarked. The
township names and codes are the real ones of 昌吉市's eight 镇.

Outlines look like 三调 图斑, not a grid: each village is a net of slightly crooked roads and
canals; every block between them is cut into strip-like fields that share their edges (a Voronoi
diagram in a stretched space, so cells come out long and narrow along the block). Five work years
of measures (retired land stays retired, fallow rotates), agreements through to 报备, village
notices, 包联 and patrols with small photos follow.

Seeded: the same size gives the same records, UUIDs included. Everything is written through the
store's batch path, so validation, history and outbox hold as for any other write.
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import tempfile
import uuid as uuid_mod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from . import water
from .demo import (
    CROPS,
    DEMO_AREA_CODE,
    FALLOW_RATE,
    PLACE_NAMES,
    RETIRE_RATE,
    WATER_QUOTAS,
    _name,
    _phone,
    add_targets,
    courtyard_rows,
    demo_year,
    operator_values,
)
from .errors import WqError
from .geo import polygons, projection
from .model import (
    SQM_PER_MU,
    AgreementStatus,
    ContactRole,
    LandAttribute,
    LeaderLevel,
    MeasureKind,
    OperatorKind,
    PatrolResult,
    PatrolStage,
)
from .photos import attach_photo, photo_dir
from .store import Store

log = logging.getLogger(__name__)

# 昌吉市's eight 镇 (domain.md): code suffix and name. The township size uses 六工镇.
TOWNSHIPS = (("105", "六工镇"), ("102", "榆树沟镇"), ("101", "三工镇"), ("103", "二六工镇"),
             ("104", "大西渠镇"), ("106", "滨湖镇"), ("107", "佃坝镇"), ("100", "硫磺沟镇"))
CITY_CODE = "652301"
_NAME_HEADS = "东西南北新老上下前后中"
_NAME_TAILS = ("渠", "梁", "湖", "滩", "井", "庄", "工", "户", "湾", "沟", "泉", "坪", "堡", "园")
YEARS = 5
BLOCK_M = (380.0, 300.0)  # mean block between roads, metres
ROAD_M, CANAL_M = 8.0, 5.0  # widths left free between blocks
FIELD_MU = 15.0  # mean field size; 三调 图斑 of irrigated land in the area are mostly 5–40 亩
STRETCH = 3.5  # fields are this many times longer than wide
PHOTO_EVERY = 25  # one patrol in this many has a photo (small: 96×72 px)


@dataclass(frozen=True)
class ScaleSize:
    townships: int = 1
    villages: int = 14  # per township
    households: int = 250  # per village
    parcels_per_household: float = 3.8
    seed: int = 20210827

    @property
    def parcels_per_village(self) -> int:
        return round(self.households * self.parcels_per_household)


SIZES: dict[str, ScaleSize] = {
    "township": ScaleSize(),
    "city": ScaleSize(townships=8),
}

Progress = Callable[[str], None]


def _uuids(rng: random.Random) -> Callable[[], str]:
    """Record UUIDs drawn from the seed, so the same size gives the same store."""
    return lambda: str(uuid_mod.UUID(int=rng.getrandbits(128), version=4))


def _village_names(rng: random.Random, count: int) -> list[str]:
    pairs = [h + t for h in _NAME_HEADS for t in _NAME_TAILS]
    rng.shuffle(pairs)
    return [f"示范{p}村（演示）" for p in pairs[:count]]


# ------------------------------------------------------------------------------------ outlines


def _road_net(rng: np.random.Generator, origin: tuple[float, float], cols: int, rows: int
              ) -> np.ndarray:
    """Crossings of a crooked road net: (rows+1, cols+1, 2) world points."""
    xs = origin[0] + np.arange(cols + 1) * BLOCK_M[0]
    ys = origin[1] + np.arange(rows + 1) * BLOCK_M[1]
    net = np.stack(np.meshgrid(xs, ys), axis=-1)
    net += rng.uniform(-0.12, 0.12, net.shape) * np.array(BLOCK_M)
    # Roads follow the land, not the compass: a slight shear per village.
    net[..., 0] += (net[..., 1] - origin[1]) * rng.uniform(-0.08, 0.08)
    return net


def _block_fields(rng: np.random.Generator, block: Polygon, count: int) -> list[Polygon]:
    """Cut a block into about `count` long fields sharing their edges."""
    minx, miny, maxx, maxy = block.bounds
    seeds = np.column_stack([rng.uniform(minx, maxx, count * 2), rng.uniform(miny, maxy, count * 2)])
    seeds = seeds[shapely.contains_xy(block, seeds[:, 0], seeds[:, 1])][:count]
    if len(seeds) < 2:
        return [block]
    # Voronoi in a space squeezed along x: cells stretched back are long strips running north-south.
    squeezed = seeds.copy()
    squeezed[:, 0] /= STRETCH
    cells = shapely.voronoi_polygons(shapely.multipoints(squeezed))
    parts = np.array(shapely.get_parts(cells))
    stretched = shapely.transform(parts, lambda c: c * np.array([STRETCH, 1.0]))
    fields = shapely.set_precision(shapely.intersection(stretched, block), 0.01)
    out = []
    for f in fields:
        if isinstance(f, Polygon) and not f.is_empty and f.area > 0.3 * SQM_PER_MU:
            out.append(f)
    return out


def village_fields(rng: np.random.Generator, origin: tuple[float, float], count: int
                   ) -> tuple[list[Polygon], tuple[float, float]]:
    """`count` field outlines for one village starting at `origin`; returns them and the extent's
    upper-right corner."""
    per_block = max(2, round(BLOCK_M[0] * BLOCK_M[1] / (FIELD_MU * SQM_PER_MU)))
    cols = max(2, math.ceil(math.sqrt(count / per_block * 1.2)))
    rows = math.ceil(count / per_block / cols * 1.25) + 1
    net = _road_net(rng, origin, cols, rows)
    fields: list[Polygon] = []
    for r in range(rows):
        for c in range(cols):
            corners = [net[r, c], net[r, c + 1], net[r + 1, c + 1], net[r + 1, c]]
            # Every other line between blocks is a canal, narrower than a road.
            gap = ROAD_M if (r + c) % 2 else CANAL_M
            block = Polygon(corners).buffer(-gap / 2, join_style="mitre")
            if block.is_empty or not isinstance(block, Polygon):
                continue
            want = max(2, round(per_block * rng.uniform(0.6, 1.4)))
            fields += _block_fields(rng, block, want)
            if len(fields) >= count:
                return fields[:count], (float(net[..., 0].max()), float(net[..., 1].max()))
    return fields, (float(net[..., 0].max()), float(net[..., 1].max()))


# ------------------------------------------------------------------------------------ records


def _small_photo(folder: Path, index: int, taken: date) -> Path:
    from PIL import Image

    path = folder / f"patrol_{index}.jpg"
    image = Image.new("RGB", (96, 72), (120 + index % 100, 110 + index * 7 % 60, 80 + index * 13 % 50))
    exif = image.getexif()
    exif[0x0132] = f"{taken:%Y:%m:%d} 11:{index % 60:02d}:00"
    image.save(path, "JPEG", quality=70, exif=exif)
    return path


class _Township:
    """One township's records, built village by village (one transaction each)."""

    def __init__(self, store: Store, size: ScaleSize, rng: random.Random, nrng: np.random.Generator,
                 code: str, name: str, year: int, origin: tuple[float, float], photos: Path,
                 progress: Progress) -> None:
        self.store, self.size, self.rng, self.nrng = store, size, rng, nrng
        self.uuid = _uuids(rng)
        self.code, self.name, self.year, self.origin = code, name, year, origin
        self.photos, self.progress = photos, progress
        self.years = list(range(year - YEARS + 1, year + 1))
        self.photo_index = 0
        self.id_codes: set[str] = set()

    def build(self) -> float:
        """Write the township; returns the x where the next township may start."""
        store = self.store
        with store.transaction():
            self.township = store.create("township", {"code": self.code, "name": self.name},
                                         record_uuid=self.uuid())
            self.leaders = store.create_many("contact", [
                {"township": self.township, "role": ContactRole.LEADER, "name": f"{n}（演示）",
                 "post": post, "phone": _phone(self.rng), "level": level}
                for n, post, level in ((_name(self.rng), "镇党委副书记", LeaderLevel.TOWNSHIP),
                                       (_name(self.rng), "副镇长", LeaderLevel.TOWNSHIP),
                                       (_name(self.rng), "镇人大主席", LeaderLevel.TOWNSHIP))],
                record_uuids=[self.uuid() for _ in range(3)])
            for y in self.years:
                for crop, quota in WATER_QUOTAS.items():
                    water.set_quota(store, self.township, y, crop, quota)
        # Villages side by side, four to a row, a few hundred metres of other land between them.
        x, y = self.origin
        right_most, row_top = x, y
        names = _village_names(self.rng, self.size.villages)
        for v, village_name in enumerate(names):
            if v and v % 4 == 0:
                x, y = self.origin[0], row_top + 400.0
            with store.transaction():
                corner = self._village(v, village_name, (x, y))
            x = corner[0] + 400.0
            right_most, row_top = max(right_most, corner[0]), max(row_top, corner[1])
            self.progress(f"{self.name}：{village_name}（{v + 1}/{len(names)}）")
        return right_most + 2000.0

    def _village(self, v: int, village_name: str, origin: tuple[float, float]) -> tuple[float, float]:
        store, rng, size = self.store, self.rng, self.size
        village = store.create("village", {"township": self.township, "code": f"{self.code}{201 + v}",
                                           "name": village_name}, record_uuid=self.uuid())
        group_names = ("一组", "二组", "三组", "四组", "五组", "六组")[:rng.randrange(3, 7)]
        groups = store.create_many("village_group", [{"village": village, "name": n} for n in group_names],
                                   record_uuids=[self.uuid() for _ in group_names])
        staff = store.create_many("contact", [
            {"township": self.township, "role": ContactRole.STAFF, "name": _name(rng) + "（演示）",
             "post": "农业发展服务中心", "phone": _phone(rng)} for _ in range(3)],
            record_uuids=[self.uuid() for _ in range(3)])
        secretary = store.create("contact", {
            "township": self.township, "role": ContactRole.LEADER, "name": _name(rng) + "（演示）",
            "post": "村党支部书记", "phone": _phone(rng), "level": LeaderLevel.VILLAGE},
            record_uuid=self.uuid())
        leaders = [*self.leaders, secretary]
        operators = store.create_many("operator", [
            self._operator(village, groups, h, leaders, staff) for h in range(size.households)],
            record_uuids=[self.uuid() for _ in range(size.households)])
        shapes, corner = village_fields(self.nrng, origin, size.parcels_per_village)
        # Every household farms at least one field; some (cooperatives, big farmers) many.
        weights = [rng.paretovariate(1.6) for _ in operators]
        extra = max(0, len(shapes) - len(operators))
        owners = operators[:len(shapes)] + rng.choices(operators, weights, k=extra)
        rng.shuffle(owners)
        parcels = store.create_many("parcel", [
            {"village": village, "operator": owner, "code": f"{i + 1:05d}",
             "place_name": rng.choice(PLACE_NAMES),
             "land_attribute": rng.choices(list(LandAttribute), weights=(72, 17, 11))[0],
             "east": "渠道", "south": "机耕道", "west": "林带", "north": "邻户耕地",
             "geometry": shape, "water_source": f"机电井 J{rng.randrange(1, 90):02d}",
             "crop": rng.choice(CROPS)}
            for i, (owner, shape) in enumerate(zip(owners, shapes, strict=True))],
            record_uuids=[self.uuid() for _ in shapes])
        areas = [math.floor(polygons.area_mu(s) * 100) / 100 for s in shapes]
        retiring = self._measures(parcels, areas)
        notice_start = {y: date(y, 7, 20 + v % 8) for y in self.years}
        store.create_many("notice", [
            {"village": village, "year": y, "start_on": start, "end_on": start + timedelta(days=6),
             "objection_count": 0} for y, start in notice_start.items()],
            record_uuids=[self.uuid() for _ in self.years])
        self._agreements(operators, owners, parcels, retiring, notice_start)
        self._patrols(parcels, retiring, staff)
        return corner

    def _operator(self, village: str, groups: list[str], h: int, leaders: list[str],
                  staff: list[str]) -> dict[str, Any]:
        kind = OperatorKind.FARMER
        if h == self.size.households - 1:
            kind = OperatorKind.VILLAGE_COLLECTIVE
        elif h % 41 == 7:
            kind = OperatorKind.COOPERATIVE
        return operator_values(self.rng, kind, h, village, groups, leaders, staff, self.id_codes,
                               numbered=True)

    def _measures(self, parcels: list[str], areas: list[float]) -> dict[int, set[int]]:
        """Five years of measures; returns, per year, the parcels (by index) retired or fallowed.
        Retired land stays retired from the year it was retired; fallow rotates year by year."""
        rng = self.rng
        retired_from = [self.years[0] + rng.randrange(0, YEARS) if rng.random() < 0.3 else None
                        for _ in parcels]
        rows: list[dict[str, Any]] = []
        retiring: dict[int, set[int]] = {y: set() for y in self.years}
        for i, (parcel, area) in enumerate(zip(parcels, areas, strict=True)):
            if area < 0.02:
                continue
            for y in self.years:
                base = {"parcel": parcel, "year": y}
                if retired_from[i] is not None and y >= retired_from[i]:
                    if i % 9 == 4:  # part of the field retired, the rest still planted
                        half = round(area / 2, 2)
                        rows.append({**base, "kind": MeasureKind.RETIRED, "area_mu": half,
                                     "subsidy_rate": RETIRE_RATE})
                        rows.append({**base, "kind": MeasureKind.PLANTED,
                                     "area_mu": round(area - half, 2)})
                    else:
                        rows.append({**base, "kind": MeasureKind.RETIRED, "area_mu": area,
                                     "subsidy_rate": RETIRE_RATE})
                    retiring[y].add(i)
                elif rng.random() < 0.09:
                    rows.append({**base, "kind": MeasureKind.FALLOW, "area_mu": area,
                                 "subsidy_rate": FALLOW_RATE})
                    retiring[y].add(i)
                else:
                    rows.append({**base, "kind": MeasureKind.PLANTED, "area_mu": area})
        self.store.create_many("measure", rows, record_uuids=[self.uuid() for _ in rows])
        return retiring

    def _agreements(self, operators: list[str], owners: list[str], parcels: list[str],
                    retiring: dict[int, set[int]], notice_start: dict[int, date]) -> None:
        """One agreement per year per household with retired or fallow land: drafted, signed,
        publicized through the village notice and filed; the latest year still under way."""
        store, rng = self.store, self.rng
        for y in self.years:
            households = list(dict.fromkeys(owners[i] for i in sorted(retiring[y])))
            drafts = store.create_many("agreement", [
                {"operator": o, "year": y, "status": AgreementStatus.DRAFT, "drafted_on": date(y, 7, 5)}
                for o in households], record_uuids=[self.uuid() for _ in households])
            latest = y == self.years[-1]
            signed, terminated = [], []
            for a in drafts:
                roll = rng.random()
                if latest and roll < 0.06:
                    continue  # still a draft
                (terminated if roll > 0.985 else signed).append(a)
            store.update_many("agreement", [(a, {"status": AgreementStatus.SIGNED,
                                                 "signed_on": date(y, 7, 12 + rng.randrange(6))})
                                            for a in signed + terminated])
            store.update_many("agreement", [(a, {"status": AgreementStatus.TERMINATED,
                                                 "terminated_on": date(y, 7, 25),
                                                 "terminate_reason": "经营者放弃退减（演示）"})
                                            for a in terminated])
            publicized = [a for a in signed if not (latest and rng.random() < 0.05)]
            store.update_many("agreement", [(a, {"status": AgreementStatus.PUBLICIZED,
                                                 "publicized_on": notice_start[y] + timedelta(days=6)})
                                            for a in publicized])
            filed = [a for a in publicized if not (latest and rng.random() < 0.1)]
            store.update_many("agreement", [(a, {"status": AgreementStatus.FILED,
                                                 "filed_on": date(y, 8, 8)}) for a in filed])

    def _patrols(self, uuids: list[str], retiring: dict[int, set[int]], staff: list[str]) -> None:
        store, rng = self.store, self.rng
        names = [store.get("contact", s)["name"] for s in staff]
        today = date.today()
        rows: list[dict[str, Any]] = []
        for y in self.years:
            for i in sorted(retiring[y]):
                for stage, on, share in ((PatrolStage.AUTUMN_PLOUGH, date(y, 10, 8), 0.8),
                                         (PatrolStage.WINTER_IRRIGATION, date(y, 11, 12), 0.6),
                                         (PatrolStage.SPRING_SOWING, date(y + 1, 4, 20), 0.5)):
                    visited = on + timedelta(days=rng.randrange(0, 10))
                    if visited > today or rng.random() > share:
                        continue
                    values: dict[str, Any] = {
                        "parcel": uuids[i], "year": y, "stage": stage, "visited_on": visited,
                        "patrollers": rng.sample(names, 2), "escort": "村委会干部（演示）",
                        "ground_state": ["已翻耕"] if stage == PatrolStage.AUTUMN_PLOUGH else ["未动"],
                        "well_state": ["封存完好"], "result": PatrolResult.COMPLIANT}
                    if rng.random() < 0.02:
                        values.update(result=PatrolResult.IRRIGATED, irrigation_signs=["湿土"],
                                      well_state=["铅封破损"], description="地块有灌溉痕迹（演示）",
                                      rect_requirement="立即停止灌溉，重新铅封机井",
                                      rect_deadline=visited + timedelta(days=7),
                                      rect_responsible=names[0], rect_action="劝导",
                                      recheck_on=visited + timedelta(days=6),
                                      recheck_result="已停止灌溉，机井重新铅封",
                                      closed_on=visited + timedelta(days=6))
                    rows.append(values)
        patrols = store.create_many("patrol", rows, record_uuids=[self.uuid() for _ in rows])
        for n, (patrol, values) in enumerate(zip(patrols, rows, strict=True)):
            if n % PHOTO_EVERY == 0:
                self.photo_index += 1
                attach_photo(store, "patrol", patrol,
                             _small_photo(self.photos, self.photo_index, values["visited_on"]))


def build_scale_demo(store: Store, size: ScaleSize, year: int | None = None,
                     progress: Progress | None = None) -> None:
    """Fill an empty store with `size` townships of demo data (village by village)."""
    if store.count("township"):
        raise WqError("演示数据只能写入空数据库。")
    if size.townships > len(TOWNSHIPS):
        raise WqError(f"最多 {len(TOWNSHIPS)} 个乡镇。")
    rng = random.Random(size.seed)
    nrng = np.random.default_rng(size.seed)
    year = year or demo_year()
    progress = progress or (lambda text: None)
    store.set_meta("demo", "1")
    centre = projection.transform(Point(87.25, 44.05), "EPSG:4326", store.crs)
    x = centre.x - 25_000.0
    with tempfile.TemporaryDirectory() as photos:
        for suffix, name in TOWNSHIPS[:size.townships]:
            x = _Township(store, size, rng, nrng, f"{CITY_CODE}{suffix}", name, year,
                          (x, centre.y - 8_000.0), Path(photos), progress).build()
    _plan_numbers(store, size, year, progress)
    store.analyze()


def _plan_numbers(store: Store, size: ScaleSize, year: int, progress: Progress) -> None:
    """庭院种植 of every year and the townships' targets, as the small demo has them; from a
    stream of their own, so the records above stay what they were for the same seed."""
    rng = random.Random(size.seed + 1)
    uuid = _uuids(rng)
    years = list(range(year - YEARS + 1, year + 1))
    progress("庭院种植与用水目标")
    store.analyze()  # the roll-ups below read every parcel and measure
    for village in store.find("village", order_by="code"):
        farmers = [o["uuid"] for o in store.find("operator", "village=? AND kind=?",
                                                 (village["uuid"], OperatorKind.FARMER))]
        rows = courtyard_rows(rng, farmers, years)
        with store.transaction():
            store.create_many("courtyard", rows, record_uuids=[uuid() for _ in rows])
    with store.transaction():
        add_targets(store, year, years[0])


def create_scale_store(path: str | Path, size_name: str, user: str = "演示用户",
                       progress: Progress | None = None) -> Store:
    """Create a new store file with the township- or city-size demo; never touches an existing file."""
    if size_name not in SIZES:
        raise WqError(f"未知的演示规模“{size_name}”，可选：{'、'.join(SIZES)}。")
    path = Path(path)
    if path.exists():
        raise WqError(f"文件已存在，演示数据不会覆盖它：{path}")
    store = Store.open(path, user, create=True)
    try:
        build_scale_demo(store, SIZES[size_name], progress=progress)
    except BaseException:
        store.close()
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        shutil.rmtree(photo_dir(store), ignore_errors=True)
        raise
    log.info("scale demo store created: %s (%d operators, %d parcels)", path.name,
             store.count("operator"), store.count("parcel"))
    return store


__all__ = ["DEMO_AREA_CODE", "SIZES", "ScaleSize", "build_scale_demo", "create_scale_store",
           "village_fields"]
