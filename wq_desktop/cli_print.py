"""Commands: `print DOC` (PDF of agreements, 公示, 包联清单, 汇总表, 巡查记录表) and `export FORMAT`
(xlsx tables here; GIS formats are handed to wq_desktop.gisfiles when it is installed)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import xlsx_exports
from .cli import add_db, command, open_store
from .errors import WqError

XLSX_TABLES = {t.key: t.name for t in xlsx_exports.XLSX_TABLES}


def _year(store, year: int | None) -> int:
    if year:
        return year
    from .queries.navigation import latest_year

    found = latest_year(store)
    if found is None:
        raise WqError("数据库中还没有任何年度的措施数据，请用 --year 指定年度。")
    return found


def _write_atomically(target: Path, write) -> int:
    """Write to a temporary file beside `target`, then rename: no half-written file on error."""
    target = target.resolve()
    if not target.parent.is_dir():
        raise WqError(f"输出文件夹不存在：{target.parent}")
    tmp = target.with_name(f".{target.name}.part")
    try:
        result = write(tmp)
        os.replace(tmp, target)
    except PermissionError:
        raise WqError(f"无法写入 {target}：文件可能正在被其他程序（如 WPS、Acrobat）打开，请关闭后重试。"
                      ) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return result


def _configure_print(p: argparse.ArgumentParser) -> None:
    from .printing.catalog import DOCUMENTS

    p.add_argument("doc", choices=[d.key for d in DOCUMENTS], metavar="文书",
                   help="；".join(f"{d.key}={d.name}（{d.scope}）" for d in DOCUMENTS))
    add_db(p)
    p.add_argument("--year", type=int, help="年度（默认为数据中最近的年度）")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--village", help="村（12位村代码）")
    who.add_argument("--household", help="经营者的身份证号/统一社会信用代码，或其编号（UUID）")
    p.add_argument("--patrol", help="巡查记录编号（UUID）：打印已填写的巡查记录表")
    p.add_argument("-o", "--output", required=True, type=Path, help="输出的PDF文件")


@command("print", "打印文书为PDF：协议书、村级公示、包联清单、三级汇总表、巡查记录表、种植面积摸底核查汇总表",
         _configure_print)
def run_print(args: argparse.Namespace) -> int:
    from .printing.catalog import document, render_document

    doc = document(args.doc)
    with open_store(args) as store:
        year = _year(store, args.year)
        pages = _write_atomically(args.output, lambda tmp: render_document(
            store, doc.key, year=year, village=args.village, operator=args.household,
            patrol=args.patrol, out=tmp))
        demo = "（演示数据，页面带水印）" if store.is_demo else ""
    print(f"已生成《{doc.name}》{args.output}，共 {pages} 页{demo}。")
    return 0


def _configure_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", metavar="格式", help="xlsx，或地图格式 gpkg、shp、geojson、txt")
    p.add_argument("table", nargs="?", metavar="表格",
                   help="xlsx 时必填：" + "；".join(f"{k}={v}" for k, v in XLSX_TABLES.items()))
    add_db(p)
    p.add_argument("--year", type=int, help="年度（默认为数据中最近的年度）")
    p.add_argument("--village", help="村（12位村代码）")
    p.add_argument("--full", action="store_true",
                   help="包联清单、花名册导出完整身份证号和电话（仅限内部使用，记入变更历史；默认脱敏）")
    p.add_argument("--only-retired", action="store_true", help="地图格式：只导出退减地块")
    p.add_argument("--encoding", choices=["GBK", "UTF-8"], default="UTF-8",
                   help="shp：属性文字编码（默认 UTF-8；多数国土软件用 GBK），同时写出 .cpg")
    p.add_argument("--crs", choices=["EPSG:4517", "EPSG:4538"],
                   help="shp、gpkg：坐标系，EPSG:4517 带“29”带号（三调惯例），EPSG:4538 不带（默认）")
    p.add_argument("-o", "--output", required=True, type=Path, help="输出文件")


@command("export",
         "导出表格（xlsx：包联清单、公示表、汇总表、花名册、巡查记录、种植面积汇总）或地图数据"
         "（gpkg、shp、geojson、txt）",
         _configure_export)
def run_export(args: argparse.Namespace) -> int:
    fmt = args.format.lower()
    if fmt != "xlsx":
        from .cli_gis import export_gis
        from .gisfiles import GIS_FORMATS

        if fmt not in GIS_FORMATS:
            print(f"错误：不支持的导出格式“{args.format}”，可选：xlsx、{'、'.join(GIS_FORMATS)}。",
                  file=sys.stderr)
            return 2
        args.format = fmt
        return export_gis(args)
    if args.table not in XLSX_TABLES:
        choices = "、".join(f"{k}（{v}）" for k, v in XLSX_TABLES.items())
        print(f"错误：导出 xlsx 请指定表格：{choices}，例如 export xlsx notice --village 652301105901",
              file=sys.stderr)
        return 2
    with open_store(args) as store:
        year = _year(store, args.year)
        if args.table == "notice" and not args.village:
            raise WqError("导出公示表请用 --village 指定村（12位村代码）。")
        full = bool(args.full) and xlsx_exports.xlsx_table(args.table).can_be_full
        _write_atomically(args.output, lambda tmp: xlsx_exports.export_table(
            store, args.table, year, tmp, args.village, full=full, file_name=args.output.name))
    internal = "（完整身份证号和电话，仅限内部使用，不得公开；已记入变更历史）" if full else ""
    print(f"已导出《{XLSX_TABLES[args.table]}》{args.output}{internal}。")
    return 0
