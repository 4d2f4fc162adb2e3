"""argparse in Chinese: help with a “用法：” line, errors as one Chinese line and exit code 2.

Shared by the desktop's commands (cli.py) and the server's (wq_server/__main__.py).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_USAGE = 2

_ARGPARSE_CN = (
    ("the following arguments are required: ", "缺少必需的参数："),
    ("unrecognized arguments: ", "无法识别的参数："),
    ("invalid choice: ", "无效的选项："),
    ("expected one argument", "需要一个参数值"),
    ("invalid int value: ", "应为整数："),
    ("choose from ", "可选："),
    ("argument ", "参数 "),
)


class ChineseHelpFormatter(argparse.HelpFormatter):
    """argparse's help with a Chinese “用法：” line."""

    def add_usage(self, usage, actions, groups, prefix=None) -> None:  # type: ignore[no-untyped-def]
        # prefix "" is argparse computing a subcommand's prog: keep it as asked.
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class ChineseArgumentParser(argparse.ArgumentParser):
    """Help and errors in Chinese, for the top-level parser and every subcommand."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="显示本帮助并退出")

    def error(self, message: str) -> None:  # type: ignore[override]
        for english, chinese in _ARGPARSE_CN:
            message = message.replace(english, chinese)
        print(f"错误：{message}（用 --help 查看用法）", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
