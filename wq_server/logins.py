"""Login attempts: failures counted per account and per client address, every attempt in the
audit log, and at most a few Argon2 checks at a time.

Each Argon2id check takes 64 MiB; answered by a pool of ~40 threads, 40 anonymous requests took a
server to 2.4 GB. Attempts therefore queue for a pool of `parallel` threads of their own (no thread
held while waiting), and beyond `queue` waiting attempts the answer is 503 at once. The lock-out
check runs again once an attempt has its thread, so 200 parallel guesses at one account are still
stopped after the limit.

The failures are read from the audit table itself, so a restart forgets nothing.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from . import auth
from .db import ServerDB

OK, FAILED, LOCKED, DISABLED = "login_ok", "login_failed", "login_locked", "login_disabled"
EVENTS = {OK: "登录成功", FAILED: "密码错误", LOCKED: "登录被暂停", DISABLED: "账号已停用"}


@dataclass(frozen=True)
class LoginPolicy:
    per_account: int = 10  # failures of one account name within the window
    per_address: int = 30  # failures from one address (an office behind one NAT has several users)
    window_s: float = 15 * 60
    parallel: int = 2  # Argon2 checks at once: 2 × 64 MiB
    queue: int = 100  # attempts waiting for the gate (~15 s of checks); beyond that 503 at once

    @classmethod
    def from_env(cls) -> LoginPolicy:
        """Limits an admin (or a test) may set: WQ_LOGIN_MAX_FAILURES, WQ_LOGIN_MAX_ADDRESS_FAILURES,
        WQ_LOGIN_WINDOW_S, WQ_LOGIN_PARALLEL, WQ_LOGIN_QUEUE."""
        env = os.environ
        return cls(per_account=int(env.get("WQ_LOGIN_MAX_FAILURES", cls.per_account)),
                   per_address=int(env.get("WQ_LOGIN_MAX_ADDRESS_FAILURES", cls.per_address)),
                   window_s=float(env.get("WQ_LOGIN_WINDOW_S", cls.window_s)),
                   parallel=max(1, int(env.get("WQ_LOGIN_PARALLEL", cls.parallel))),
                   queue=max(1, int(env.get("WQ_LOGIN_QUEUE", cls.queue))))


class TooManyFailures(HTTPException):
    def __init__(self, wait_s: float, by_address: bool) -> None:
        wait = _wait_text(wait_s)
        who = "从本机发出的登录" if by_address else "该账号"
        super().__init__(429, f"{who}密码错误次数过多，已暂停登录，请{wait}后再试。"
                              "如忘记密码，请联系管理员重设。",
                         headers={"Retry-After": str(max(1, math.ceil(wait_s)))})


def _wait_text(seconds: float) -> str:
    if seconds < 60:
        return f" {max(1, math.ceil(seconds))} 秒"
    return f" {math.ceil(seconds / 60)} 分钟"


class LoginGate:
    """The server's one place where passwords are checked."""

    def __init__(self, db: ServerDB, policy: LoginPolicy) -> None:
        self.db = db
        self.policy = policy
        # The gate: `parallel` threads of their own, at a lower CPU priority, so Argon2 (which
        # spreads each check over 4 lanes) never starves the event loop or the other requests.
        self._pool = ThreadPoolExecutor(policy.parallel, thread_name_prefix="argon2",
                                        initializer=_lower_priority)
        self._queued = 0  # touched only on the event loop

    async def login(self, name: str, password: str, address: str) -> tuple[str, str, auth.User]:
        # Cheap refusal first, without waiting for the gate, then again inside it (see module doc).
        await run_in_threadpool(self._refuse_if_locked, name, address)
        if self._queued >= self.policy.queue + self.policy.parallel:
            # A queue that only grows answers nobody in time: shed what a township never sends.
            raise HTTPException(503, "服务器正忙于处理大量登录，请稍后再试。", headers={"Retry-After": "10"})
        self._queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self._attempt, name, password, address)
        finally:
            self._queued -= 1

    def _attempt(self, name: str, password: str, address: str) -> tuple[str, str, auth.User]:
        self._refuse_if_locked(name, address)
        try:
            found = auth.login(self.db, name, password)
        except auth.AccountDisabled:
            record(self.db, DISABLED, name, address)
            raise
        if found is None:
            record(self.db, FAILED, name, address)
            raise HTTPException(401, "用户名或密码错误。")
        record(self.db, OK, name, address)
        return found

    def _refuse_if_locked(self, name: str, address: str) -> None:
        now = time.time()
        since = now - self.policy.window_s
        with self.db.reading() as conn:
            last_ok = conn.execute('SELECT coalesce(max(at), 0) FROM srv_audit WHERE "user"=? AND event=?',
                                   (name, OK)).fetchone()[0]
            # A success ends an account's run of failures; an address's failures stay counted, or
            # one known password would reset the count for guesses at every other account.
            by_account = _nth_latest(conn, "user", name, max(since, last_ok), self.policy.per_account)
            by_address = _nth_latest(conn, "address", address, since, self.policy.per_address)
        for at, is_address in ((by_account, False), (by_address, True)):
            if at is not None:
                record(self.db, LOCKED, name, address)
                raise TooManyFailures(at + self.policy.window_s - now, is_address)


def _lower_priority() -> None:
    """Linux nices one thread (and the lanes Argon2 starts from it), not the whole process."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass  # elsewhere the gate alone bounds the work


def _nth_latest(conn, column: str, value: str, since: float, limit: int) -> float | None:
    """The time of the `limit`-th latest failure after `since`, or None if there are fewer: the
    attempt is allowed again once that failure leaves the window."""
    row = conn.execute(
        f'SELECT at FROM srv_audit WHERE "{column}"=? AND event=? AND at>? ORDER BY at DESC'
        " LIMIT 1 OFFSET ?", (value, FAILED, since, limit - 1)).fetchone()
    return row[0] if row else None


def record(db: ServerDB, event: str, name: str, address: str, detail: str | None = None) -> None:
    with db.writing() as conn:
        conn.execute('INSERT INTO srv_audit (at, event, "user", address, detail) VALUES (?,?,?,?,?)',
                        (time.time(), event, name, address, detail))


@dataclass(frozen=True)
class AuditRow:
    at: float
    event: str
    user: str
    address: str


def audit_log(db: ServerDB, limit: int = 100, user: str | None = None) -> list[AuditRow]:
    """The latest entries, newest first."""
    where, params = ('WHERE "user"=?', (user,)) if user else ("", ())
    with db.reading() as conn:
        rows = conn.execute(f'SELECT at, event, "user", address FROM srv_audit {where}'
                            " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
    return [AuditRow(*r) for r in rows]
