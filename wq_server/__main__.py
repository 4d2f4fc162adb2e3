"""`python -m wq_server --db PATH|postgresql://… --host 127.0.0.1 --port N [--workers N]` runs the
server; `python -m wq_server addtownship|adduser|passwd|disable-user|enable-user|list-users|audit|
import-package|package-key` are the admin's commands (run on the server machine, against the
database), and `migrate --from server.sqlite --to postgresql://…` moves a city's server onto
PostgreSQL."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wq_desktop.arguments import ChineseArgumentParser
from wq_desktop.errors import WqError

if TYPE_CHECKING:
    from .db import ServerDB
    from .pg_store import PgServerDB

USER_ADMIN = ("passwd", "disable-user", "enable-user", "list-users", "audit")
COMMANDS = ("serve", "addtownship", "adduser", "passwd", "disable-user", "enable-user", "list-users",
            "audit", "import-package", "package-key", "migrate")
DB_HELP = "服务器数据库：SQLite 文件（不存在时创建）或 postgresql://用户@主机/库名"


def _parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(prog="python -m wq_server", description="退地减水核查同步服务器")
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=ChineseArgumentParser)
    serve = sub.add_parser("serve", help="运行服务器（不写命令时的默认命令）")
    serve.add_argument("--db", required=True, help=DB_HELP)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--workers", type=int, default=1,
                       help="服务器进程数（仅 PostgreSQL；SQLite 只能一个进程）")
    serve.add_argument("--photos", type=Path,
                       help="照片文件夹（PostgreSQL 首次运行时必填，之后记在数据库中）")
    serve.add_argument("--web-replica", type=Path,
                       help="网页查看用的本机数据副本文件（仅 PostgreSQL；默认在照片文件夹中，"
                            "多台服务器时各用本机磁盘上的文件）")
    serve.add_argument("--ssl-certfile", help="HTTPS 证书文件（PEM）")
    serve.add_argument("--ssl-keyfile", help="HTTPS 私钥文件（PEM）")
    serve.add_argument("--allow-plain-http", action="store_true",
                       help="允许在非本机地址上不加密（HTTP）运行：密码和农户信息将明文传输，仅供测试")
    town = sub.add_parser("addtownship", help="新建乡镇")
    town.add_argument("--db", required=True, help=DB_HELP)
    town.add_argument("--code", required=True, help="9位乡镇代码")
    town.add_argument("--name", required=True, help="乡镇名称")
    user = sub.add_parser("adduser", help="新建用户（密码从提示输入或 WQ_PASSWORD 读取）")
    user.add_argument("--db", required=True, help=DB_HELP)
    user.add_argument("--name", required=True, help="用户名")
    user.add_argument("--role", required=True, choices=("staff", "office", "admin"),
                      help="staff 乡镇工作人员；office 市级办公室（只读）；admin 管理员")
    user.add_argument("--township", help="乡镇代码（staff 必填）")
    passwd = sub.add_parser("passwd", help="重设用户密码（从提示输入或 WQ_PASSWORD 读取；"
                            "该用户已登录的会话随即失效）")
    passwd.add_argument("--db", required=True, help=DB_HELP)
    passwd.add_argument("--name", required=True, help="用户名")
    disable = sub.add_parser("disable-user", help="停用用户：不能再登录，已登录的会话立即失效")
    disable.add_argument("--db", required=True, help=DB_HELP)
    disable.add_argument("--name", required=True, help="用户名")
    enable = sub.add_parser("enable-user", help="恢复已停用的用户")
    enable.add_argument("--db", required=True, help=DB_HELP)
    enable.add_argument("--name", required=True, help="用户名")
    users = sub.add_parser("list-users", help="列出全部用户（角色、乡镇、是否停用）")
    users.add_argument("--db", required=True, help=DB_HELP)
    audit = sub.add_parser("audit", help="查看登录记录（成功、密码错误、被暂停），最新的在前")
    audit.add_argument("--db", required=True, help=DB_HELP)
    audit.add_argument("--name", help="只看该用户")
    audit.add_argument("--last", type=int, default=50, help="显示条数（默认50）")
    pkg = sub.add_parser("import-package", help="导入U盘同步包，并生成带回设备的回传包")
    pkg.add_argument("file", type=Path, help="设备导出的同步包")
    pkg.add_argument("--db", required=True, help=DB_HELP)
    pkg.add_argument("--reply", type=Path, help="回传包保存位置（默认与同步包同目录）")
    move = sub.add_parser("migrate", help="把 SQLite 服务器数据库迁移到空的 PostgreSQL 数据库")
    move.add_argument("--from", dest="source", required=True, type=Path, help="原 SQLite 服务器数据库")
    move.add_argument("--to", dest="target", required=True, help="postgresql://用户@主机/库名（须为空库）")
    move.add_argument("--photos", type=Path,
                      help="PostgreSQL 服务器的照片文件夹（默认沿用原照片文件夹）")
    key = sub.add_parser("package-key", help="显示本服务器同步包密钥的指纹；--out 写出给各乡镇的公钥文件")
    key.add_argument("--db", required=True, help=DB_HELP)
    key.add_argument("--out", type=Path, help="公钥文件（如 同步包密钥.json，由市办公室发给各乡镇）")
    key.add_argument("--name", default="", help="写进公钥文件的服务器名称（如 昌吉市退地减水服务器）")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["serve", *argv]
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        return _run(args)
    except WqError as err:
        print(f"错误：{err}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from .stores import is_postgres_url, open_server_db

    if args.command == "serve":
        _serve(args)
        return 0
    if args.command == "migrate":
        from .migrate import migrate

        print(migrate(args.source, args.target, args.photos))
        return 0
    if args.command == "package-key":
        return _package_key(args)
    if args.command in USER_ADMIN and not is_postgres_url(args.db) and not Path(args.db).is_file():
        # An admin command against a mistyped path must not create an empty server database.
        raise WqError(f"服务器数据库不存在：{args.db}")
    db = open_server_db(args.db, pool_size=2)
    try:
        if args.command == "addtownship":
            from .apply import create_township

            create_township(db, args.code, args.name)
            print(f"已新建乡镇：{args.name}（{args.code}）")
        elif args.command == "adduser":
            from .auth import ROLES, add_user

            add_user(db, args.name, _new_password(), args.role, args.township)
            print(f"已新建用户：{args.name}（{ROLES[args.role]}）")
        elif args.command in USER_ADMIN:
            _run_user_admin(db, args)
        elif args.command == "import-package":
            from .package import import_package_file

            reply, summary = import_package_file(db, args.file, args.reply)
            print(summary)
            print(f"回传包：{reply}（请带回设备，用 python main.py sync-import 导入）")
    finally:
        db.close()
    return 0


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from .app import DB_ENV, create_app
    from .stores import SERVING_POOL, is_postgres_url, open_server_db

    _refuse_plain_http(args)
    postgres = is_postgres_url(args.db)
    if args.workers < 1:
        raise WqError("--workers 至少为 1。")
    if args.workers > 1 and not postgres:
        raise WqError("SQLite 服务器数据库只能由一个进程写入：多个进程（--workers）请使用 PostgreSQL。")
    if postgres:
        from .pg_store import PgServerDB

        db = PgServerDB(args.db, pool_size=SERVING_POOL, photos=args.photos)
        _ = db.blob_dir  # refused here, before serving, when no photo folder was ever given
        _build_web_replica(db, args.web_replica)
    else:
        db = open_server_db(args.db)
    where = "PostgreSQL" if postgres else args.db
    options = dict(host=args.host, port=args.port, log_level="warning", access_log=False,
                   ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
    print(f"同步服务已启动：{args.host}:{args.port}（数据库 {where}，{args.workers} 个进程）", flush=True)
    from .server_key import public_info

    print(f"同步包密钥指纹：{public_info(db.key_base)['fingerprint']}（各乡镇核对用）", flush=True)
    if args.workers == 1:
        uvicorn.run(create_app(db), **options)
        return
    db.close()  # each worker opens its own pool
    os.environ[DB_ENV] = args.db
    try:
        os.setpgid(0, 0)  # the workers in a group of the server's own
    except OSError:
        pass  # already a session leader (started so by a supervisor or a test)
    if os.getpgid(0) == os.getpid():
        from .app import KILL_GROUP_ENV

        os.environ[KILL_GROUP_ENV] = "1"
    uvicorn.run("wq_server.app:app_from_env", factory=True, workers=args.workers, **options)


def _build_web_replica(db: PgServerDB, path: Path | None) -> None:
    """The web view's replica of every township, brought up to date before any worker serves
    (the workers find it through the environment)."""
    from .office_replica import REPLICA_ENV, OfficeReplica

    if path is not None:
        os.environ[REPLICA_ENV] = str(path.resolve())
    OfficeReplica(db).build(lambda line: print(line, flush=True))


def _key_base(target: str) -> Path:
    """Where the server's package key lives (beside the SQLite file, or in the PostgreSQL
    server's photo folder): `server_key` takes it as the database path."""
    from .stores import open_server_db

    db = open_server_db(target, pool_size=1)
    try:
        return db.key_base
    finally:
        db.close()


def _fingerprint(target: str) -> str:
    from .server_key import public_info

    return str(public_info(_key_base(target))["fingerprint"])


def _package_key(args: argparse.Namespace) -> int:
    from .server_key import key_path, write_public_file
    from .stores import is_postgres_url

    if not is_postgres_url(args.db) and not Path(args.db).is_file():
        raise WqError(f"服务器数据库不存在：{args.db}")
    base = _key_base(args.db)
    if args.out:
        fp = write_public_file(base, args.out, args.name)
        print(f"已写出同步包公钥文件：{args.out}（指纹 {fp}）。请发给各乡镇，在“同步 → 导入服务器密钥…”"
              "中导入（命令行 main.py sync-key）。")
    else:
        print(f"同步包密钥指纹：{_fingerprint(args.db)}")
    print(f"私钥文件：{key_path(base)}（请与数据库一起备份，不要外传）")
    return 0


def _refuse_plain_http(args: argparse.Namespace) -> None:
    """Passwords, tokens and ID numbers cross the city's network: off this machine, only over TLS."""
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise WqError("请同时指定 --ssl-certfile 和 --ssl-keyfile。")
    if args.ssl_certfile or args.allow_plain_http or _is_loopback(args.host):
        return
    raise WqError(
        f"拒绝在 {args.host} 上以不加密的 HTTP 运行：密码和农户信息会在网络上明文传输。"
        "请用 --ssl-certfile 和 --ssl-keyfile 指定证书（制作方法见 README“服务器”一节）；"
        "只在本机测试时用 --host 127.0.0.1；确需明文运行请加 --allow-plain-http。")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def _new_password() -> str:
    password = os.environ.get("WQ_PASSWORD")
    if password:
        return password
    try:
        password = getpass.getpass("密码：")
        if getpass.getpass("再次输入密码：") != password:
            raise WqError("两次输入的密码不一致，未作修改。")
    except (EOFError, KeyboardInterrupt):
        raise WqError("未输入密码，未作修改。") from None
    return password


def _run_user_admin(db: ServerDB, args: argparse.Namespace) -> None:
    from .auth import ROLES, existing_user, list_users, set_disabled, set_password

    if args.command == "passwd":
        existing_user(db, args.name)  # checked before anyone types a password
        revoked = set_password(db, args.name, _new_password())
        note = f"；原有 {revoked} 个登录会话已失效，须用新密码重新登录。" if revoked else "。"
        print(f"已重设用户 {args.name.strip()} 的密码{note}")
    elif args.command == "disable-user":
        revoked = set_disabled(db, args.name, True)
        note = f"，原有 {revoked} 个登录会话已立即失效。" if revoked else "。"
        print(f"已停用用户 {args.name.strip()}：不能再登录{note}")
    elif args.command == "enable-user":
        set_disabled(db, args.name, False)
        print(f"已恢复用户 {args.name.strip()}，可以重新登录。")
    elif args.command == "audit":
        _print_audit(db, args.last, args.name)
    else:
        rows = list_users(db)
        if not rows:
            print("还没有用户。请用 adduser 新建。")
        for u in rows:
            state = "已停用" if u.disabled else "正常"
            print(f"{u.name}\t{ROLES.get(u.role, u.role)}\t{u.township or '—'}\t{state}\t"
                  f"新建于 {u.created_at[:10]}\t有效登录会话 {u.tokens} 个")


def _print_audit(db: ServerDB, last: int, name: str | None) -> None:
    from datetime import datetime

    from .logins import EVENTS, audit_log

    rows = audit_log(db, last, name.strip() if name else None)
    if not rows:
        print("还没有登录记录。")
    for r in rows:
        at = datetime.fromtimestamp(r.at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        print(f"{at}\t{EVENTS.get(r.event, r.event)}\t{r.user}\t{r.address}")


if __name__ == "__main__":
    sys.exit(main())
