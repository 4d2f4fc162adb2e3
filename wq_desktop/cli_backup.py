"""Commands `backup` and `restore`: copy the store into the data folder's backups, and put one back."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .cli import EXIT_USAGE, add_db, command
from .errors import WqError

log = logging.getLogger(__name__)


def _start_logging() -> None:
    # These commands change files on disk: always leave a trace in the data folder's log.
    from .logs import setup_logging

    setup_logging()


def _configure_backup(p: argparse.ArgumentParser) -> None:
    from .backup import DEFAULT_KEEP_DAYS

    add_db(p)
    p.add_argument("--keep-days", type=int, default=DEFAULT_KEEP_DAYS, metavar="天数",
                   help=f"删除多少天以前的旧备份（默认 {DEFAULT_KEEP_DAYS} 天；"
                        "每个数据库最新的一份总会保留）")
    p.add_argument("--list", action="store_true", help="只列出该数据库已有的备份，不新建")


@command("backup", "立即备份数据库到数据文件夹的 backups 目录，并清理过期的旧备份", _configure_backup)
def run_backup(args: argparse.Namespace) -> int:
    from .backup import backup_now, list_backups, prune_backups
    from .paths import backups_dir

    _start_logging()
    if args.list:
        backups = list_backups(args.db)
        if not backups:
            print(f"{backups_dir()} 中还没有 {args.db.name} 的备份。")
        for b in backups:
            print(f"{b.taken_at:%Y-%m-%d %H:%M:%S}  {b.size / 1024 / 1024:6.1f} MB  {b.path}")
        return 0
    if args.keep_days < 1:
        print("错误：--keep-days 至少为 1 天", file=sys.stderr)
        return EXIT_USAGE
    from . import audit
    from .cli import open_store

    with open_store(args) as store:  # an encrypted store: sign in, the backup stays encrypted
        made = backup_now(args.db, key=store.key)
        audit.record(store, audit.BACKUP, {"file": made.name})
    removed = prune_backups(args.keep_days)
    print(f"已备份到 {made}")
    if removed:
        print(f"已删除 {len(removed)} 份超过 {args.keep_days} 天的旧备份。")
    return 0


def _configure_restore(p: argparse.ArgumentParser) -> None:
    p.add_argument("backup", type=Path, metavar="备份文件", help="要恢复的备份文件（.sqlite）")
    add_db(p, must_exist=False)  # restoring over a lost or deleted store must work
    p.add_argument("--yes", action="store_true", help="不再询问，直接恢复")
    p.add_argument("--other-store", action="store_true",
                   help="允许用另一个数据库的备份替换（默认拒绝，以免换错数据）")


def _confirmed(backup: Path, store: Path) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        raise WqError("恢复会替换当前数据库，需要确认：请在终端中运行并回答提示，"
                      "或加 --yes 参数。未做任何更改。")
    print(f"将用备份 {backup} 替换数据库 {store}。")
    if store.exists():
        print("当前数据库文件不会被删除，会改名保留在同一文件夹（文件名含 before-restore 和时间）。")
    print("确认恢复吗？输入 y 确认，其他任意键取消：", end="", flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes", "是", "确认")


@command("restore", "用备份替换数据库（当前文件改名保留，不会删除）；加密的备份需登录", _configure_restore)
def run_restore(args: argparse.Namespace) -> int:
    from . import audit
    from .backup import is_encrypted, restore_backup, verify_database
    from .cli import local_password
    from .store import Store

    _start_logging()
    key = None
    if args.backup.is_file() and is_encrypted(args.backup):
        from .accounts import key_from_keyfile

        # The backup's own key file: it opens even when the store itself is lost.
        key = key_from_keyfile(args.backup, args.user,
                               local_password(f"本机账户“{args.user}”的密码："))
    verify_database(args.backup, key)  # a broken backup is reported before anyone is asked anything
    if not args.yes and not _confirmed(args.backup, args.db):
        print("已取消，未做任何更改。")
        return 1
    aside = restore_backup(args.backup, args.db, allow_other_store=args.other_store, key=key)
    with Store.open(args.db, args.user, key=key) as store:
        audit.record(store, audit.RESTORE, {"file": args.backup.name})
    print(f"已从备份恢复：{args.db}")
    if aside:
        print(f"原数据库已保留为：{aside}")
    return 0
