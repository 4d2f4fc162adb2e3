"""Unexpected errors: a Chinese dialog for the user and a report file for the developers.

The report never carries an ID number or phone number (they are masked with the same patterns the
public documents use), and the window stays open, so whatever the user was typing is still there.
"""

from __future__ import annotations

import platform
import re
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from wq_desktop import paths, rules
from wq_desktop.errors import WqError

# 18-character ID numbers (and 15-digit legacy ones), 11-digit mobiles, landlines with area code.
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def scrub(text: str) -> str:
    """Mask every ID and phone number in free text (tracebacks quote values)."""
    text = _ID.sub(lambda m: rules.mask_id(m.group(0)), text)
    text = _MOBILE.sub(lambda m: rules.mask_phone(m.group(0)), text)
    return _LANDLINE.sub(lambda m: rules.mask_phone(m.group(0)), text)


def write_report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
                 context: str = "") -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = paths.reports_dir() / f"error-{stamp}.txt"
    body = "".join(traceback.format_exception(exc_type, exc, tb))
    lines = [
        "退地减水核查 错误报告",
        f"时间：{datetime.now().isoformat(timespec='seconds')}",
        f"系统：{platform.platform()}；Python {platform.python_version()}",
        f"位置：{context}" if context else "",
        "",
        body,
    ]
    path.write_text(scrub("\n".join(lines)), encoding="utf-8")
    return path


def show_unexpected(parent: QWidget | None, exc_type: type[BaseException], exc: BaseException,
                    tb: TracebackType | None) -> Path | None:
    """Tell the user in Chinese; a user-actionable WqError needs no report."""
    if isinstance(exc, WqError):
        QMessageBox.warning(parent, "无法完成", str(exc))
        return None
    try:
        report = write_report(exc_type, exc, tb)
        where = f"错误报告已保存到：\n{report}\n请把该文件发给技术支持人员。"
    except OSError:
        report, where = None, "错误报告也未能保存（数据文件夹不可写）。"
    QMessageBox.critical(
        parent, "程序出错",
        "程序遇到了一个意外错误，当前操作没有完成。\n"
        "您已录入但尚未保存的内容仍在窗口中，请检查后再次保存。\n\n" + where)
    return report


def install_excepthook(parent_getter: Callable[[], QWidget | None]) -> None:
    """Route errors raised in Qt slots to the dialog instead of killing the program."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        show_unexpected(parent_getter(), exc_type, exc, tb)

    sys.excepthook = hook
