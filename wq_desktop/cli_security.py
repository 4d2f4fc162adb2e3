"""Commands for encrypted stores: `new` (a real, encrypted store with its first account), local
accounts, the security log."""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli import add_db, command, local_password, open_store


def print_recovery_code(code: str) -> None:
    print("\n恢复码（只显示这一次，请抄写或打印后锁入办公室保险柜）：\n")
    print(f"    {code}\n")
    print("忘记密码时，用恢复码可以打开数据库并重设密码；丢失恢复码和所有密码，数据将无法找回。")


def _configure_new(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, type=Path, help="要创建的数据库文件（不能已存在）")
    p.add_argument("--township", required=True, metavar="代码", help="9位乡镇代码，如 652301105")
    p.add_argument("--name", required=True, metavar="名称", help="乡镇名称，如 六工镇")
    p.add_argument("--user", required=True, metavar="账户名",
                   help="第一个本机账户（如 张三）；密码从提示输入，或读取环境变量 WQ_PASSWORD")


@command("new", "新建正式使用的加密数据库：乡镇和第一个本机账户，显示一次恢复码", _configure_new)
def run_new(args: argparse.Namespace) -> int:
    from .accounts import check_name, check_password, create_encrypted_store
    from .errors import WqError
    from .operations.places import create_township

    if args.db.exists():
        raise WqError(f"文件已存在，不会覆盖：{args.db}")
    account = check_name(args.user)
    password = local_password(f"为账户“{account}”设置密码：", confirm=True)
    check_password(password, account)
    store, code = create_encrypted_store(args.db, account, password)
    with store:
        create_township(store, args.township.strip(), args.name.strip())
    print(f"已创建加密数据库 {args.db}（密钥文件 {args.db.name}.keys 在同一文件夹，请一起备份）。")
    print_recovery_code(code)
    return 0


def _configure_accounts(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--add", metavar="账户名", help="新增账户（新密码从提示输入，或读取 WQ_NEW_PASSWORD）")
    p.add_argument("--disable", metavar="账户名", help="停用账户（账户不会被删除，变更历史仍记着它）")


@command("accounts", "列出、新增或停用本机账户（加密的数据库）", _configure_accounts)
def run_accounts(args: argparse.Namespace) -> int:
    import getpass
    import os

    from . import accounts

    with open_store(args) as store:
        if args.add:
            password = os.environ.get("WQ_NEW_PASSWORD") or getpass.getpass(
                f"新账户“{args.add}”的密码：")
            accounts.add_account(store, args.add, password)
            print(f"已新增账户 {args.add}。")
        if args.disable:
            accounts.disable_account(store, args.disable)
            print(f"已停用账户 {args.disable}。")
        for a in accounts.list_accounts(store):
            state = f"已停用（{a.disabled_at}，{a.disabled_by}）" if a.disabled_at else "可用"
            print(f"{a.name}  创建于 {a.created_at}（{a.created_by}）  {state}")
    return 0


def _configure_log(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--limit", type=int, default=50, help="显示最近多少条（默认 50）")


@command("security-log", "显示安全日志（登录、锁定、账户、导出、备份、U盘同步包）", _configure_log)
def run_log(args: argparse.Namespace) -> int:
    from . import audit

    with open_store(args) as store:
        for e in audit.entries(store.conn, limit=args.limit):
            detail = "，".join(f"{k}={v}" for k, v in e.detail.items())
            print(f"{e.seq:>5}  {e.at}  {e.account}  {e.label}  {detail}")
        problems = audit.verify(store.conn)
    for _, message in problems:
        print(f"[错误] {message}")
    return 1 if problems else 0

