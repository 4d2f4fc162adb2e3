"""Sync commands: sync with the server, show what waits, USB packages, conflicts."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from .cli import add_db, command


def _configure_sync(p: argparse.ArgumentParser) -> None:
    add_db(p, must_exist=False)
    p.add_argument("--server", required=True, help="同步服务器地址，如 https://wq.example.cn:8765")
    p.add_argument("--ca-bundle", type=Path, help="服务器证书（CA）文件，用于内网自签名 HTTPS")


def _password() -> str:
    password = os.environ.get("WQ_PASSWORD")
    if password:
        return password
    try:
        return getpass.getpass("服务器密码：")
    except (EOFError, KeyboardInterrupt):
        raise SystemExit(130) from None


@command("sync", "与服务器同步（密码从提示输入，或读取环境变量 WQ_PASSWORD）", _configure_sync)
def run_sync(args: argparse.Namespace) -> int:
    from .cli import open_store
    from .sync import sync_now

    if args.ca_bundle is not None and not args.ca_bundle.is_file():
        print(f"错误：证书文件不存在：{args.ca_bundle}", file=sys.stderr)
        return 2
    password = _password()

    def progress(stage: str, done: int, total: int | None) -> None:
        print(f"{stage}：{done}" + (f"/{total}" if total else ""), file=sys.stderr, flush=True)

    with open_store(args, create=True) as store:
        print(f"待上传修改：{store.pending_changes()} 条；上次同步：{store.meta('sync_last_at') or '从未'}。")
        report = sync_now(store, args.server, args.user, password, progress,
                          verify=str(args.ca_bundle) if args.ca_bundle else True)
    for line in report.lines():
        print(line)
    return 1 if report.rejected else 0


@command("sync-status", "查看待上传修改、被拒绝的修改、未处理冲突和待上传照片", add_db)
def run_status(args: argparse.Namespace) -> int:
    from .cli import open_store
    from .sync import list_conflicts
    from .sync.photo_sync import waiting_uploads

    with open_store(args) as store:
        print(f"上次完成同步：{store.meta('sync_last_at') or '从未'}")
        print(f"待上传修改：{store.pending_changes()} 条")
        for kind, record, reason in store.conn.execute(
                "SELECT kind, record, reason FROM outbox WHERE state='rejected' ORDER BY seq"):
            print(f"被拒绝：{kind} {record[:8]}：{reason}")
        for c in list_conflicts(store):
            print(f"冲突：{c.kind_label}“{c.title}”：{'、'.join(c.field_labels)}"
                  f"（{c.mine_user or '本机'} / {c.theirs_user or '其他设备'}）")
        waiting = waiting_uploads(store)
        if waiting:
            print(f"待上传照片：{len(waiting)} 张（" + "、".join(n or s[:12] for s, n in waiting[:10])
                  + ("……" if len(waiting) > 10 else "") + "）")
    return 0


def _configure_export(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--out", required=True, type=Path, help="同步包文件（如 U盘上的 六工镇-1129.zip）")


@command("sync-export", "把待上传修改和照片导出为同步包（无网络时用U盘带到办公室）", _configure_export)
def run_export(args: argparse.Namespace) -> int:
    from .cli import open_store
    from .sync.package import export_package

    with open_store(args) as store:
        summary = export_package(store, args.out, args.user)
    print(f"已导出同步包 {args.out}：{summary.changes} 条修改，{summary.photos} 张照片。"
          "修改仍保留为待上传，导入服务器回传包后才标记为已同步。")
    return 0


def _configure_import(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--package", required=True, type=Path, help="服务器生成的回传包")


@command("sync-import", "导入服务器生成的回传包", _configure_import)
def run_import(args: argparse.Namespace) -> int:
    from .cli import open_store
    from .sync.package import import_reply

    if not args.package.is_file():
        print(f"错误：回传包不存在：{args.package}", file=sys.stderr)
        return 2
    with open_store(args) as store:
        s = import_reply(store, args.package)
        waiting = store.pending_changes()
    print(f"已导入回传包：确认 {s.changes} 条修改（冲突 {s.conflicts}，被拒绝 {s.rejected}），"
          f"收到 {s.pulled} 条其他设备的修改；待上传修改：{waiting} 条。")
    return 0


def _configure_key(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--file", type=Path,
                   help="市办公室提供的服务器同步包密钥文件（不写则只显示本机记住的指纹）")
    p.add_argument("--replace", action="store_true",
                   help="密钥与本机记住的不同时也换用它（须先与市办公室核对过指纹）")


@command("sync-key", "导入或查看服务器的同步包密钥（U盘同步包加密用）", _configure_key)
def run_key(args: argparse.Namespace) -> int:
    from . import package_keys, sealed
    from .cli import open_store

    with open_store(args) as store:
        if args.file is not None:
            key = package_keys.import_key_file(store, args.file, replace=args.replace)
            print(f"已记住服务器同步包密钥，指纹 {sealed.shown_fingerprint(key)}。")
            return 0
        key = package_keys.server_key(store)
        if key is None:
            print("本机还不知道服务器的同步包密钥：联网同步一次，或用 --file 导入市办公室提供的密钥文件。")
        else:
            print(f"服务器同步包密钥指纹：{sealed.shown_fingerprint(key)}"
                  f"（来自 {store.meta(package_keys.SERVER_KEY_FROM)}）")
    return 0
