"""Unexpected errors: a Chinese dialog for the user and a report file for the developers.

The report never carries an ID number or phone number: it passes the core's one masking function
(logs.mask_sensitive, the same the log uses), and the window stays open, so whatever the user was
typing is still there. Native crashes (a fault in Qt or a C library) cannot run Python code, so
faulthandler writes their stack into a file in the crash folder; at the next start that file
becomes a masked report like the others.
"""

from __future__ import annotations

import faulthandler
import platform
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from wq_desktop import paths
from wq_desktop.errors import WqError
from wq_desktop.logs import mask_sensitive

NATIVE_CRASH_FILE = "native-crash.txt"
_native_file = None  # kept open for the whole run: faulthandler writes to its descriptor


def scrub(text: str) -> str:
    """Mask every ID and phone number in free text (tracebacks quote values)."""
    return mask_sensitive(text)


def collect_native_crash(folder: Path | None = None) -> Path | None:
    """Turn the previous run's native crash dump (if any) into a masked report; returns it."""
    folder = folder or paths.reports_dir()
    dump = folder / NATIVE_CRASH_FILE
    try:
        text = dump.read_text(encoding="utf-8", errors="replace") if dump.is_file() else ""
    except OSError:
        return None
    if not text.strip():
        return None
    stamp = datetime.fromtimestamp(dump.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
    report = folder / f"native-crash-{stamp}.txt"
    header = ("退地减水核查 程序异常退出报告（本机代码崩溃）\n"
              f"系统：{platform.platform()}；Python {platform.python_version()}\n\n")
    report.write_text(scrub(header + text), encoding="utf-8")
    dump.write_text("", encoding="utf-8")
    return report


def install_native_crash_log(folder: Path | None = None) -> Path | None:
    """Let faulthandler write native crashes into the crash folder (the file stays open)."""
    global _native_file
    folder = folder or paths.reports_dir()
    try:
        collect_native_crash(folder)
        if _native_file is not None:
            _native_file.close()
        _native_file = open(folder / NATIVE_CRASH_FILE, "a", encoding="utf-8")
    except OSError:
        return None
    faulthandler.enable(file=_native_file, all_threads=True)
    return folder / NATIVE_CRASH_FILE


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
