"""Commands: `import parcels FILE` (Shapefile/GeoPackage/GeoJSON/.gdb/坐标TXT) and `gis-settings`
(township boundary, minimum area, overlap threshold); GIS export is `export`.

The import prints the preview first. Rows that fail a check (invalid shape, duplicate code, outside
the township, too small or thin, overlapping another village) stop the whole import unless
--skip-problems is given, so nothing half-imported is left to clean up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli import add_db, command, open_store
from .errors import WqError
from .model import LandAttribute


def _configure_import(p: argparse.ArgumentParser) -> None:
    from .gis_import import PRESETS, TARGETS

    p.add_argument("what", choices=["parcels"], help="导入的内容（目前为地块 parcels）")
    p.add_argument("file", type=Path, help="Shapefile（.shp）、GeoPackage、GeoJSON、.gdb 文件夹或坐标TXT")
    add_db(p)
    p.add_argument("--village", help="导入到哪个村（12位村代码）；文件中有坐落单位代码时只导入该村的图斑")
    p.add_argument("--crs", help="文件没有坐标系时指定，或按预览的建议更正文件自带的坐标系，"
                                 "如 EPSG:4517（带29带号）、EPSG:4538、EPSG:4490")
    p.add_argument("--layer", help="图层名（GeoPackage/.gdb 有多个图层时）")
    p.add_argument("--preset", choices=list(PRESETS), help="字段对应预设（默认自动识别，如三调 DLTB）")
    p.add_argument("--map", action="append", default=[], metavar="目标=字段",
                   help="指定字段对应，可重复；留空表示不用该字段。目标：" +
                        "、".join(f"{k}={v}" for k, v in TARGETS.items()))
    p.add_argument("--land-attribute", choices=[a.value for a in LandAttribute],
                   help="文件中没有土地属性时所用的值")
    p.add_argument("--all-land-classes", action="store_true", help="也导入非耕地图斑（默认只导入地类01耕地）")
    p.add_argument("--skip-problems", action="store_true",
                   help="跳过未通过检查的图斑（图形无效、编号重复、不在范围内等），导入其余的")
    p.add_argument("--confirm-small", action="append", default=[], metavar="序号",
                   help="确认导入面积过小或狭长的图斑（预览中“第N个图斑”的 N，可用逗号分隔，可重复）")
    p.add_argument("--min-area", type=float, metavar="亩",
                   help="本次的最小地块面积（默认按 gis-settings，0.1 亩）")
    p.add_argument("--refuse-overlap", type=float, metavar="亩",
                   help="与本村已有地块重叠超过该面积的图斑不导入（默认只提示；与其他村重叠总是不导入）")
    p.add_argument("--dry-run", action="store_true", help="只显示预览，不写入")


@command("import", "导入地块图形：Shapefile、GeoPackage、GeoJSON、File Geodatabase、坐标TXT"
                   "（先预览，一次事务写入）", _configure_import)
def run_import(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from . import shape_checks
    from .gis_import import TARGETS, apply_import, guess_mapping, preview_import, read_source

    source = read_source(args.file, args.layer)
    mapping = guess_mapping(source, args.preset)
    for item in args.map:
        target, sep, field = item.partition("=")
        if not sep or target not in TARGETS:
            raise WqError(f"--map 应写成 目标=字段，目标为：{'、'.join(TARGETS)}；实为“{item}”")
        if field and field not in source.fields:
            raise WqError(f"文件中没有字段“{field}”。字段：{'、'.join(source.fields)}")
        mapping.fields[target] = field
    mapping.default_land_attribute = args.land_attribute
    mapping.farmland_only = not args.all_land_classes
    confirmed = _feature_numbers(args.confirm_small)
    with open_store(args) as store:
        checks = shape_checks.load(store)
        if args.min_area is not None:
            checks = replace(checks, min_area_mu=args.min_area)
        if args.refuse_overlap is not None:
            checks = replace(checks, refuse_overlap_mu=args.refuse_overlap)
        preview = preview_import(store, source, mapping, village_code=args.village, crs=args.crs,
                                 checks=checks.validated(), confirmed=confirmed)
        print(f"字段对应（{mapping.preset}）：" + "，".join(
            f"{TARGETS[t]}←{f}" for t, f in mapping.fields.items() if f))
        for line in preview.lines():
            print(line)
        if preview.suggested_crs is not None:
            print(f"可加 --crs {preview.suggested_crs.crs} 按建议的坐标系重新预览。")
        if preview.blocking:
            raise WqError(f"无法导入：{preview.blocking}未写入任何数据。")
        if args.dry_run:
            print("预览完成，未写入任何数据（--dry-run）。")
            return 0
        if preview.has_errors and not args.skip_problems:
            print(f"有 {preview.refused} 个图斑未通过检查，未写入任何数据。"
                  "修正文件后重试，或加 --skip-problems 只导入其余地块"
                  "（面积过小或狭长的图斑核实后可用 --confirm-small 逐个确认）。")
            return 1
        created = apply_import(store, preview)
    updated = preview.updates
    print(f"已导入 {len(created) - updated} 个地块" + (f"，按标识码更新 {updated} 个。" if updated else "。"))
    return 0


def _feature_numbers(items: list[str]) -> set[int]:
    numbers: set[int] = set()
    for item in items:
        for part in item.replace("，", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise WqError(f"--confirm-small 应为图斑序号（预览中的“第N个图斑”），实为“{part}”")
            numbers.add(int(part))
    return numbers


def export_gis(args: argparse.Namespace) -> int:
    """Run an export for a GIS format (args: format, db, user, year, output, optional village)."""
    from .gis_export import export_parcels

    with open_store(args) as store:
        result = export_parcels(store, args.format, Path(args.output), year=args.year,
                                village_code=getattr(args, "village", None),
                                only_retired=bool(getattr(args, "only_retired", False)),
                                encoding=getattr(args, "encoding", None) or "UTF-8",
                                crs=getattr(args, "crs", None))
    for line in result.lines():
        print(line)
    return 0


def _configure_settings(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--boundary", type=Path, metavar="文件",
                   help="乡镇边界（SHP/GPKG/GeoJSON/.gdb 的面图层）：导入、绘制的地块须在其中")
    p.add_argument("--boundary-crs", help="边界文件没有坐标系时指定，如 EPSG:4517")
    p.add_argument("--clear-boundary", action="store_true", help="不再使用乡镇边界，改按已有地块的范围检查")
    p.add_argument("--min-area", type=float, metavar="亩", help="最小地块面积（默认 0.1 亩）")
    p.add_argument("--min-width", type=float, metavar="米", help="狭长碎片的最小平均宽度（默认 2 米）")
    p.add_argument("--refuse-overlap", type=float, metavar="亩",
                   help="与本村已有地块重叠超过该面积即不导入；设为负数表示只提示")


@command("gis-settings", "地块检查设置：乡镇边界、最小面积、狭长碎片、重叠阈值（不带参数时显示当前设置）",
         _configure_settings)
def run_settings(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from . import location_checks, shape_checks
    from .gis_import import boundary_from_file

    with open_store(args) as store:
        if args.boundary and args.clear_boundary:
            raise WqError("--boundary 和 --clear-boundary 只能选一个。")
        if args.boundary:
            shape = boundary_from_file(store, str(args.boundary), args.boundary_crs)
            location_checks.set_boundary(store, shape)
        if args.clear_boundary:
            location_checks.set_boundary(store, None)
        checks = shape_checks.load(store)
        if args.min_area is not None:
            checks = replace(checks, min_area_mu=args.min_area)
        if args.min_width is not None:
            checks = replace(checks, min_width_m=args.min_width)
        if args.refuse_overlap is not None:
            limit = args.refuse_overlap if args.refuse_overlap >= 0 else None
            checks = replace(checks, refuse_overlap_mu=limit)
        shape_checks.save(store, checks)
        extent = location_checks.township_extent(store)
        source = "乡镇边界" if store.meta(location_checks.BOUNDARY_META) else (
            "已有地块的范围" if extent.label == "本乡镇范围" else location_checks.ZONE_LABEL)
        minx, miny, maxx, maxy = extent.core.bounds
        print(f"位置检查：按{source}（X {miny:,.0f}–{maxy:,.0f}，Y {minx:,.0f}–{maxx:,.0f}，{store.crs}）")
        for name, label in shape_checks.LABELS.items():
            value = getattr(checks, name)
            print(f"{label}：{'只提示' if value is None else f'{value:g}'}")
    return 0
