"""The foundation's commands: demo, check. Feature modules register more with cli.command."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .cli import add_db, command, default_user, local_password, open_store


def _configure_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, type=Path, help="要创建的数据库文件（不能已存在）")
    p.add_argument("--user", default=default_user(), help="记入变更历史的用户名（加密时为本机账户名）")
    p.add_argument("--encrypted", action="store_true",
                   help="加密演示数据库，并以 --user 为第一个本机账户（密码从提示输入或读取 WQ_PASSWORD）")
    p.add_argument("--size", choices=("small", "township", "city"), default="small",
                   help="规模：small=3个村约400个地块（默认）；township=一个镇14个村、"
                        "3500户、13000余个地块、五个年度；city=八个镇、10万余个地块（需数分钟）")


@command("demo", "创建演示乡镇数据库（虚构的演示数据，默认不加密；不会覆盖已有文件）", _configure_demo)
def run_demo(args: argparse.Namespace) -> int:
    from .demo import create_demo_store

    code = None
    if args.size != "small":
        from .demo_scale import create_scale_store
        from .errors import WqError

        if args.encrypted:
            raise WqError("大规模演示数据用于试用和测速，不提供加密；请去掉 --encrypted。")
        store = create_scale_store(args.db, args.size, args.user,
                                   progress=lambda text: print(text, flush=True))
    elif args.encrypted:
        from .accounts import check_name, check_password
        from .cli_security import print_recovery_code
        from .encrypt_store import encrypt
        from .errors import WqError

        if args.db.exists():
            raise WqError(f"文件已存在，不会覆盖：{args.db}")
        account = check_name(args.user)
        password = local_password(f"为账户“{account}”设置密码：", confirm=True)
        check_password(password, account)  # before the demo is built: a weak password costs nothing
        create_demo_store(args.db, account).close()
        result = encrypt(args.db, account, password)
        store, code = result.store, result.recovery_code
    else:
        store = create_demo_store(args.db, args.user)
    with store:
        households = store.count("operator")
        parcels = store.count("parcel")
    state = "加密" if code else "未加密，仅含虚构的演示数据"
    print(f"已创建演示数据库 {args.db}（{state}）：{households} 户，{parcels} 个地块。")
    if code:
        print_recovery_code(code)
    return 0


def _configure_check(p: argparse.ArgumentParser) -> None:
    from .checks import CHECKS

    add_db(p)
    p.add_argument("--year", type=int, help="检查的年度（默认为数据中最近的年度）")
    p.add_argument("--only", nargs="*", metavar="检查项", choices=list(CHECKS),
                   help="只运行这些检查（默认全部）：" + "、".join(f"{k}={v[0]}" for k, v in CHECKS.items()))


@command("check", "检查数据：变更历史是否被篡改、数据规则、重叠与重复、遗漏、协议公示、违规整改、碎片化；"
                  "有错误时退出码为1", _configure_check)
def run_check(args: argparse.Namespace) -> int:
    from .checks import CHECKS, Severity
    from .queries.navigation import latest_year

    with open_store(args) as store:
        year = args.year or latest_year(store)
        findings = [f for name in (args.only or list(CHECKS)) for f in CHECKS[name][1](store, year)]
    for f in findings:
        print(f"[{f.severity}] {f.check}：{f.message}")
    errors = sum(f.severity == Severity.ERROR for f in findings)
    # Counts only: finding messages name people and parcels.
    logging.getLogger(__name__).info("check finished: %d errors, %d notices", errors, len(findings) - errors)
    scope = f"{year} 年度，" if year else ""
    print(f"检查完成（{scope}共 {len(findings)} 项发现）：{errors} 个错误，{len(findings) - errors} 个提示。")
    return 1 if errors else 0


def _configure_app(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, help="要打开的数据库文件（默认打开上次使用的）")
    p.add_argument("--user", default=None, help="用户名（默认取设置中的用户名）")


@command("app", "打开图形界面（不带任何参数运行时的默认命令）", _configure_app)
def run_app(args: argparse.Namespace) -> int:
    from ui.app import run  # the only place the core's CLI reaches into the Qt layer, on demand

    return run(args.db, args.user)
