"""What a request may cost the server: a maximum body per endpoint (checked against the declared
length first, then while the body streams in, so nothing larger is ever held), and a full disk
answered with one sentence (507) instead of a bare 500.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from wq_desktop import sqldriver
from wq_desktop.sync import protocol as p

MiB = 1 << 20
DISK_FULL = "服务器磁盘已满，请联系管理员；本机修改都已保留。"
DISK_FULL_STATUS = 507

# (method, path prefix) → largest body in bytes; the first match wins, anything else gets DEFAULT.
BODY_LIMITS: tuple[tuple[str, str, int], ...] = (
    ("POST", "/auth/login", 4096),
    ("POST", "/photos/missing", 1 * MiB),
    ("PUT", "/photos/", p.PHOTO_CHUNK + 4096),
    ("POST", "/sync/push", 64 * MiB),  # 2,500 changes, parcels with large outlines among them
    ("POST", "/packages", int(os.environ.get("WQ_SERVER_MAX_PACKAGE_MB", "4096")) * MiB),
)
DEFAULT = 64 * 1024


def body_limit(method: str, path: str) -> int:
    for m, prefix, limit in BODY_LIMITS:
        if method == m and path.startswith(prefix):
            return limit
    return DEFAULT


def too_large(limit: int) -> str:
    size = f"{limit / MiB:.0f} MB" if limit >= MiB else f"{limit // 1024} KB"
    return f"请求内容超过服务器上限（{size}），未处理。"


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the limit; an HTTPException so that FastAPI's
    own body reading hands it on as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: 413 for a body over the endpoint's limit, before or while it arrives."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["method"], scope["path"])
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _answer(send, 413, too_large(limit))
            return
        seen = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _answer(send, 413, too_large(limit))


async def _answer(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def is_disk_full(err: BaseException) -> bool:
    if isinstance(err, OSError):
        return err.errno in (errno.ENOSPC, errno.EDQUOT)
    if getattr(err, "sqlstate", None) == "53100":  # PostgreSQL's disk_full
        return True
    if isinstance(err, (sqlite3.OperationalError, sqldriver.OperationalError)):
        return "disk is full" in str(err) or "database or disk is full" in str(err)
    return False


def nearly_no_space(folder: Path) -> bool:
    """A write failed some other way (SQLite's "disk I/O error" on a full WAL) while the disk
    holds less than 1 MB: it is the full disk all the same."""
    try:
        return shutil.disk_usage(folder).free < MiB
    except OSError:
        return False


class DiskFull(OSError):
    def __init__(self) -> None:
        super().__init__(errno.ENOSPC, DISK_FULL)


def reserve_bytes() -> int:
    """Space kept free (WQ_SERVER_MIN_FREE_MB, default 64 MB): a write that would eat into it is
    refused before it starts, so SQLite's journal and the log always have room."""
    return int(os.environ.get("WQ_SERVER_MIN_FREE_MB", "64")) * MiB


def ensure_room(folder: Path, incoming: int) -> None:
    """Raise DiskFull if `incoming` more bytes would leave less than the reserve free."""
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(folder).free - incoming < reserve_bytes():
        raise DiskFull
