"""一张图: the map page, its tiles, outlines and a parcel's details on click (masked).

A map model per (year, scope) is built once from the store and kept until the change feed moves
(`ReadModel.position`); building it takes a few seconds at city size, every tile after that
milliseconds. Township leaders get a model of their township only, so no tile, outline or click
can show another township's parcel.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Hashable
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from wq_desktop.gisfiles import CATEGORIES
from wq_desktop.rules.masking import mask_id, mask_phone
from wq_desktop.summary import fmt_mu

from .. import auth
from . import map_tiles
from .frame import WEB_USER, YearParam, default_year, page, secured, township_scope, web_store
from .read_model import ReadModel, read_model, snapshot
from .session import WebUser

COLORS = {"退减灌溉": "#e87622", "休耕轮作": "#3484d6", "实际种植": "#54a84c", "未核实": "#969696"}
_models: dict[tuple[int, str | None], tuple[Hashable, map_tiles.MapModel]] = {}
_building = threading.Lock()
log = logging.getLogger(__name__)
WARM_UP_ENV = "WQ_WEB_MAP_WARM_UP"  # "0": build the map on the first visit only (the benchmark)


def model_for(request: Request, user: auth.User, year: int) -> map_tiles.MapModel:
    return _model(read_model(request), year, township_scope(user))


def _model(records: ReadModel, year: int, scope: str | None) -> map_tiles.MapModel:
    key, head = (year, scope), records.position()
    held = _models.get(key)
    if held and held[0] == head:
        return held[1]
    with _building:  # one build at a time; the tiles asked meanwhile wait for it
        held = _models.get(key)
        if held and held[0] == head:
            return held[1]
        with snapshot(records, WEB_USER) as store:
            model = map_tiles.build_model(store, year, scope)
        _models[key] = (head, model)
        return model


def warm_up(records: ReadModel) -> None:
    """Build the office's map of the latest year when the server starts (tens of seconds at
    city size), so the first visitor does not wait for it."""
    def build() -> None:
        try:
            with snapshot(records, WEB_USER) as store:
                year = default_year(store)
            _model(records, year, None)
        except Exception:  # a visit builds it then, and says what went wrong
            log.exception("map warm-up failed")

    threading.Thread(target=build, name="web-map-warm-up", daemon=True).start()


def _year(request: Request, year: int | None) -> int:
    if year:
        return year
    with web_store(request) as store:
        return default_year(store)


def _figure(value: float) -> str:
    """A figure of record (亩 or 元, two decimals) as every table prints it; "—" when absent."""
    return "—" if math.isnan(value) else fmt_mu(float(value))


def _details(request: Request, user: auth.User, parcel: str, year: int) -> dict:
    with web_store(request, user) as store:
        from wq_desktop.gisfiles import parcel_layer

        layer = parcel_layer(store, year, parcel_uuids=[parcel], with_geometry=False)
        if not len(layer):
            raise HTTPException(404, "该地块已不存在。")
        op = store.get("operator", layer.operator[0]) if layer.operator[0] else None
        village = store.get("village", layer.village[0])
        township = store.get("township", village["township"])
    if not user.can_read(township["uuid"]):
        raise HTTPException(403, "该地块属于其他乡镇，您无权查看。")
    return {
        "parcel": parcel, "operator": op["uuid"] if op else None,
        "rows": [
            ("地块编号", layer.code[0]), ("乡镇", township["name"]), ("村", village["name"]),
            ("经营者", op["name"] if op else "（未登记）"),
            ("证件号", mask_id(op["id_code"]) if op else "—"),
            ("联系电话", mask_phone(op["phone"]) if op and op["phone"] else "—"),
            ("土地属性", layer.land_attribute[0]), ("种植作物", layer.crop[0] or "—"),
            (f"{year}年度措施", layer.category[0]),
            ("登记面积（亩）", _figure(layer.area_mu[0])),
            ("退减灌溉（亩）", _figure(layer.retired_mu[0])), ("休耕轮作（亩）", _figure(layer.fallow_mu[0])),
            ("补助金额（元）", _figure(layer.subsidy[0])),
        ]}


def install(app: FastAPI) -> None:
    if os.environ.get(WARM_UP_ENV, "1") != "0":
        warm_up(app.state.read_model)

    @app.get("/web/map")
    def map_page(request: Request, user: WebUser, year: YearParam = None) -> Response:
        return page(request, "map.html", user, year=_year(request, year), active="map",
                    colors=COLORS)

    @app.get("/web/map/meta")
    def meta(request: Request, user: WebUser, year: YearParam = None) -> Response:
        m = model_for(request, user, _year(request, year))
        return secured(JSONResponse({
            "year": m.year, "extent": m.extent, "bounds": m.bounds, "max_zoom": m.max_zoom,
            "tile_px": map_tiles.TILE_PX, "grid": map_tiles.GRID, "categories": list(CATEGORIES),
            "colors": [COLORS[c] for c in CATEGORIES], "counts": m.counts, "unmapped": m.unmapped,
            "villages": [{"name": v["name"], "township": v["township"]} for v in m.villages],
            "townships": [t["name"] for t in m.townships], "office": user.role == auth.OFFICE}))

    @app.get("/web/map/tile/{z}/{x}/{y}")
    def tile(request: Request, user: WebUser, z: int, x: int, y: int,
             year: YearParam = None) -> Response:
        m = model_for(request, user, _year(request, year))
        if not (0 <= z <= m.max_zoom and 0 <= x < (1 << z) and 0 <= y < (1 << z)):
            raise HTTPException(404, "没有这个图块。")
        return secured(Response(m.tile(z, x, y), media_type="application/octet-stream"))

    @app.get("/web/map/outlines")
    def outlines(request: Request, user: WebUser, year: YearParam = None) -> Response:
        return secured(JSONResponse(model_for(request, user, _year(request, year)).outlines()))

    @app.get("/web/map/at")
    def at(request: Request, user: WebUser, x: Annotated[float, Query()], y: Annotated[float, Query()],
           year: YearParam = None) -> Response:
        year = _year(request, year)
        parcel = model_for(request, user, year).parcel_at(x, y)
        if parcel is None:
            return secured(JSONResponse({"parcel": None}))
        return secured(JSONResponse(_details(request, user, parcel, year)))
