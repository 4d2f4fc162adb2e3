"""One record of every kind of the schema, written through the ordinary write API, with an
update, a delete and a restore among them: for tests of what the outbox sends."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PIL import Image
from shapely.geometry import box

from wq_desktop import services, water
from wq_desktop.model import AgreementStatus, MeasureKind
from wq_desktop.photos import attach_photo
from wq_desktop.store import Store

YEAR = 2025
# Made on the server (the township, the city office's 督办) or by sync (a conflict); a laptop
# only updates them. laptop_records leaves them out, server_made_records writes them locally.
SERVER_MADE = ("township", "supervision", "conflict")


def photo_file(folder: Path, name: str, colour: str) -> Path:
    path = folder / name
    Image.new("RGB", (8, 8), colour).save(path)
    return path


def laptop_records(store: Store, township: str, township_code: str, folder: Path) -> dict[str, str]:
    """Every kind a laptop creates, then edits of several (an outline, a list, a delete and a
    restore); returns a UUID of each kind."""
    made = created_records(store, township, township_code, folder)
    # Edits on top: an outline redrawn (area and bounds follow), a list and a text changed, a
    # record deleted and restored.
    store.update("parcel", made["parcel"], {"geometry": box(500000, 4870000, 500120, 4870100),
                                            "crop": "棉花"})
    store.update("patrol", made["patrol"], {"patrollers": ["甲"], "escort": "村干部"})
    store.update("operator", made["operator"], {"phone": "13800002222", "address": "二组"})
    store.delete("courtyard", made["courtyard"])
    store.restore("courtyard", made["courtyard"])
    return made


def created_records(store: Store, township: str, township_code: str, folder: Path) -> dict[str, str]:
    """One live record of every kind a laptop creates, through the ordinary write API (an
    outline and two photos among them); returns a UUID of each kind."""
    made = {"township": township}
    made["village"] = village = store.create("village", {"township": township,
                                                         "code": township_code + "901", "name": "全类村"})
    made["village_group"] = group = store.create("village_group", {"village": village, "name": "一组"})
    made["contact"] = leader = store.create("contact", {
        "township": township, "role": "包联负责人", "name": "王干部", "level": "乡",
        "phone": "13900001111"})
    made["operator"] = op = store.create("operator", {
        "village": village, "group": group, "name": "赵六", "kind": "农户",
        "id_code": "11010519491231002X", "leader": leader})
    made["parcel"] = parcel = store.create("parcel", {
        "village": village, "operator": op, "code": "Q1", "land_attribute": "集体机动地",
        "geometry": box(500000, 4870000, 500100, 4870100)})
    made["measure"] = services.set_measure(store, parcel, YEAR, MeasureKind.RETIRED, 15, 400)
    made["notice"] = notice = store.create("notice", {
        "village": village, "year": YEAR, "start_on": date(YEAR, 7, 21), "end_on": date(YEAR, 7, 27)})
    made["agreement"] = agreement = services.start_agreement(store, op, YEAR, date(YEAR, 7, 1))
    services.advance_agreement(store, agreement, AgreementStatus.SIGNED, date(YEAR, 7, 20))
    made["patrol"] = patrol = store.create("patrol", {
        "parcel": parcel, "year": YEAR, "stage": "秋翻", "visited_on": date(YEAR, 10, 10),
        "patrollers": ["甲", "乙"], "result": "合规", "ground_state": ["已翻耕"]})
    made["water_quota"] = water.set_quota(store, township, YEAR, "棉花", 420)
    made["courtyard"] = store.create("courtyard", {"operator": op, "year": YEAR, "crop": "蔬菜",
                                                   "area_mu": 0.3})
    made["water_target"] = store.create("water_target", {
        "township": township, "year": YEAR + 1, "total_wan_m3": 1200, "groundwater_wan_m3": 800})
    made["village_target"] = store.create("village_target", {
        "village": village, "year": YEAR + 1, "retired_mu": 150, "fallow_mu": 40})
    made["photo"] = attach_photo(store, "patrol", patrol, photo_file(folder, "巡查.jpg", "green"))
    attach_photo(store, "notice", notice, photo_file(folder, "公示.jpg", "red"))
    return made


def server_made_records(store: Store, made: dict[str, str]) -> None:
    """The kinds of SERVER_MADE, written here (a store takes any kind) and each edited once."""
    made["supervision"] = store.create("supervision", {
        "township": made["township"], "target_kind": "parcel", "target": made["parcel"],
        "note": "请补拍巡查照片", "due_on": date(2099, 12, 31), "status": "待办理"})
    store.update("supervision", made["supervision"], {"reply": "已补拍", "status": "已回复"})
    made["conflict"] = store.create("conflict", {
        "record_kind": "water_quota", "record": made["water_quota"], "mine_op": "update",
        "theirs_op": "update", "status": "未解决",
        "fields": {"m3_per_mu": {"mine": 410, "theirs": 430}}})
    store.update("conflict", made["conflict"], {"status": "已解决", "resolved_by": "甲",
                                               "resolution": {"m3_per_mu": "theirs"}})
    store.update("township", made["township"], {"name": "六工镇（改）"})
