"""Command: `import parcels FILE` (Shapefile/GeoPackage/GeoJSON/.gdb/坐标TXT); GIS export is `export`.

The import prints the preview first. Rows with an invalid shape or a duplicate code stop the whole
import unless --skip-problems is given, so nothing half-imported is left to clean up.
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
    p.add_argument("--crs", help="文件没有坐标系时指定，如 EPSG:4517（带29带号）、EPSG:4538、EPSG:4490")
    p.add_argument("--layer", help="图层名（GeoPackage/.gdb 有多个图层时）")
    p.add_argument("--preset", choices=list(PRESETS), help="字段对应预设（默认自动识别，如三调 DLTB）")
    p.add_argument("--map", action="append", default=[], metavar="目标=字段",
                   help="指定字段对应，可重复；留空表示不用该字段。目标：" +
                        "、".join(f"{k}={v}" for k, v in TARGETS.items()))
    p.add_argument("--land-attribute", choices=[a.value for a in LandAttribute],
                   help="文件中没有土地属性时所用的值")
    p.add_argument("--all-land-classes", action="store_true", help="也导入非耕地图斑（默认只导入地类01耕地）")
    p.add_argument("--skip-problems", action="store_true", help="跳过图形无效或编号重复的图斑，导入其余的")
    p.add_argument("--dry-run", action="store_true", help="只显示预览，不写入")


@command("import", "导入地块图形：Shapefile、GeoPackage、GeoJSON、File Geodatabase、坐标TXT"
                   "（先预览，一次事务写入）", _configure_import)
def run_import(args: argparse.Namespace) -> int:
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
    with open_store(args) as store:
        preview = preview_import(store, source, mapping, village_code=args.village, crs=args.crs)
        print(f"字段对应（{mapping.preset}）：" + "，".join(
            f"{TARGETS[t]}←{f}" for t, f in mapping.fields.items() if f))
        for line in preview.lines():
            print(line)
        if preview.blocking:
            raise WqError(f"无法导入：{preview.blocking}")
        if args.dry_run:
            print("预览完成，未写入任何数据（--dry-run）。")
            return 0
        if preview.has_errors and not args.skip_problems:
            print("有图形无效或编号重复的图斑，未写入任何数据。"
                  "修正文件后重试，或加 --skip-problems 只导入其余地块。")
            return 1
        created = apply_import(store, preview)
    print(f"已导入 {len(created)} 个地块。")
    return 0
