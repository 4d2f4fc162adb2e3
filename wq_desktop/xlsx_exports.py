"""The xlsx tables the CLI and the window export, with their default file names.

One list so the CLI's `export xlsx TABLE`, the print centre and the 文件 menu offer the same
tables under the same names. An unmasked 包联清单 or 花名册 (full ID numbers and phones) says
仅限内部使用，不得公开 in its title and sheet name, and who exported it is written into the change
history of the village (or township) it covers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ValidationError
from .model import INTERNAL_ONLY, RecordOp
from .store import Store


@dataclass(frozen=True)
class XlsxTable:
    key: str
    name: str  # Chinese, for menus and messages
    needs_village: bool  # notice: one village only
    can_be_full: bool  # contacts: an unmasked office copy exists


XLSX_TABLES: tuple[XlsxTable, ...] = (
    XlsxTable("contacts", "包联责任落实清单", False, True),
    XlsxTable("notice", "公示表", True, False),
    XlsxTable("summary", "三级汇总表", False, False),
    XlsxTable("roster", "耕地经营者花名册", False, True),
    XlsxTable("patrols", "巡查记录", False, False),
    XlsxTable("planting", "种植面积摸底核查汇总表及用水量测算", False, False),
)
_BY_KEY = {t.key: t for t in XLSX_TABLES}


def xlsx_table(key: str) -> XlsxTable:
    try:
        return _BY_KEY[key]
    except KeyError:
        choices = "、".join(f"{t.key}（{t.name}）" for t in XLSX_TABLES)
        raise ValidationError(f"未知的表格“{key}”，可选：{choices}") from None


def _scope(store: Store, village: str | None) -> tuple[str, str, str]:
    """(name for the file, kind, uuid) of the village, or of the township when none is given."""
    if village:
        from .summary import find_village  # the summary code: when a table is made

        v = find_village(store, village)
        return v["name"], "village", v["uuid"]
    township = store.find_one("township", "1=1")
    if township is None:
        raise ValidationError("数据库中还没有乡镇，无法导出表格。")
    return township["name"], "township", township["uuid"]


def default_file_name(store: Store, key: str, year: int, village: str | None = None, *,
                      full: bool = False) -> str:
    """"示范东三工村2026年度公示表.xlsx"; an unmasked copy says so in its name too."""
    table = xlsx_table(key)
    name, _, _ = _scope(store, village)
    internal = f"（{INTERNAL_ONLY}）" if full else ""
    return f"{name}{year}年度{table.name}{internal}.xlsx"


def export_table(store: Store, key: str, year: int, path: str | os.PathLike[str],
                 village: str | None = None, *, full: bool = False,
                 file_name: str | None = None) -> Path:
    """Write one table; `full` (contacts only) keeps ID numbers and phones whole and records
    the export, by the signed-in user, in the change history (`file_name`: the name the user
    chose, when `path` is a temporary file beside it)."""
    from . import excel  # openpyxl: imported when a table is written, not when the window opens

    table = xlsx_table(key)
    if table.needs_village and not village:
        raise ValidationError(f"导出{table.name}请指定村（12位村代码）。")
    if full and not table.can_be_full:
        raise ValidationError(f"{table.name}只有脱敏版本。")
    if key == "notice":
        return excel.export_notice(store, year, path, village or "")
    if key == "summary":
        return excel.export_summary(store, year, path, village)
    if key == "patrols":
        return excel.export_patrols(store, year, path, village)
    if key == "planting":
        from .excel_planting import export_planting

        return export_planting(store, year, path, village)
    if key == "roster":
        out = excel.export_roster(store, path, village, masked=not full)
    else:
        out = excel.export_contacts(store, year, path, village, masked=not full)
    if full:
        name, kind, uuid = _scope(store, village)
        store.log_event(kind, uuid, RecordOp.EXPORT,
                        f"导出{name}{year}年度{table.name}（完整身份证号和电话，{INTERNAL_ONLY}）："
                        f"{file_name or Path(path).name}")
    return out


def save_table(store: Store, key: str, year: int, target: Path, village: str | None = None, *,
               full: bool = False) -> Path:
    """Write the table to a temporary file beside `target`, then rename it into place, so a
    failure (the file open in WPS) leaves no half-written file; Chinese message on errors."""
    target = Path(target)
    if target.suffix.lower() != ".xlsx":
        target = target.with_name(target.name + ".xlsx")
    if not target.parent.is_dir():
        raise ValidationError(f"输出文件夹不存在：{target.parent}")
    tmp = target.with_name(f".{target.name}.part")
    try:
        export_table(store, key, year, tmp, village, full=full, file_name=target.name)
        os.replace(tmp, target)
    except PermissionError:
        raise ValidationError(f"无法写入“{target.name}”：文件可能正在被其他程序（如 WPS、Excel）打开，"
                              "请关闭后重试。") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target
