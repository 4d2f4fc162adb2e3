"""Command line: `python main.py COMMAND ...`. A command that changes data runs the same named
operation (wq_desktop/operations) as the window does. Wrong arguments or a missing file print
one clear Chinese line and exit with code 2."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .arguments import EXIT_USAGE, ChineseArgumentParser
from .errors import WqError

Handler = Callable[[argparse.Namespace], int]
_COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]] = []


def command(name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]
            ) -> Callable[[Handler], Handler]:
    """Register a subcommand; feature modules add theirs in `_load_commands`."""
    def wrap(handler: Handler) -> Handler:
        _COMMANDS.append((name, help_text, configure, handler))
        return handler
    return wrap


def default_user() -> str:
    try:
        return os.environ.get("WQ_USER") or getpass.getuser()
    except OSError:
        return "未命名用户"


def add_db(parser: argparse.ArgumentParser, *, must_exist: bool = True) -> None:
    parser.add_argument("--db", required=True, type=Path, help="数据库文件路径（.sqlite）")
    parser.add_argument("--user", default=default_user(),
                        help="本机账户名（加密的数据库要登录，密码从提示输入或读取 WQ_PASSWORD）；"
                             "未加密的数据库记入变更历史的用户名（默认为系统用户名）")
    parser.set_defaults(db_must_exist=must_exist)


def local_password(prompt: str, *, confirm: bool = False) -> str:
    """The local account's password: WQ_LOCAL_PASSWORD, else WQ_PASSWORD, else a prompt."""
    password = os.environ.get("WQ_LOCAL_PASSWORD") or os.environ.get("WQ_PASSWORD")
    if password:
        return password
    if not sys.stdin or not sys.stdin.isatty():
        raise WqError("需要本机账户的密码：请在终端中运行并输入，或设置环境变量 WQ_PASSWORD。")
    try:
        password = getpass.getpass(prompt)
        if confirm and getpass.getpass("再输入一次：") != password:
            raise WqError("两次输入的密码不一致，未做任何更改。")
    except (EOFError, KeyboardInterrupt):
        raise SystemExit(130) from None
    return password


def open_store(args: argparse.Namespace, *, create: bool = False):  # -> Store (lazy imports: fast --help)
    """The store of --db; an encrypted one signs in as --user (a local account) first."""
    from .keyfile import is_encrypted_store
    from .store import Store

    if args.db.is_file() and is_encrypted_store(args.db):
        from .accounts import sign_in

        return sign_in(args.db, args.user, local_password(f"本机账户“{args.user}”的密码："))
    return Store.open(args.db, args.user, create=create)


def _load_commands() -> None:
    # Each feature keeps its commands in a module named cli_*.py; importing it registers them.
    import importlib
    import pkgutil

    from . import __path__ as package_path

    for module in sorted(m.name for m in pkgutil.iter_modules(package_path)):
        if module.startswith("cli_"):
            importlib.import_module(f"{__package__}.{module}")


def build_parser() -> ChineseArgumentParser:
    # Every time, not only while _COMMANDS is empty: a module imported on its own (cli_gis by
    # a caller of export_gis) registers its commands and would hide the other modules' ones.
    _load_commands()
    parser = ChineseArgumentParser(
        prog="python main.py", description="退地减水核查（wq-desktop）。不带参数运行时打开图形界面。")
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=ChineseArgumentParser)
    for name, help_text, configure, handler in _COMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    db = getattr(args, "db", None)
    if db is not None and getattr(args, "db_must_exist", False) and not db.is_file():
        print(f"错误：数据库文件不存在：{db}", file=sys.stderr)
        return EXIT_USAGE
    from . import __version__
    from .logs import setup_logging

    setup_logging()  # no-op when already set up (the window, the test run)
    # The command name only: arguments can hold ID numbers (print --household).
    logging.getLogger(__name__).info("command %s (wq-desktop %s)", args.command, __version__)
    try:
        return args.handler(args)
    except WqError as err:
        print(f"错误：{err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
