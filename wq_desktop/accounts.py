"""Local accounts and sign-in for encrypted stores.

Each person who uses the laptop has an account (name + password). The store file is encrypted by
a random data key; each account's password, and the 恢复码 shown once at creation, wraps it in the
key file (keyfile.py). Signing in unwraps the data key (argon2id), opens the store, and checks
the account exists there and is not disabled; the signed-in account is then the store's user, so
every history entry names it. Wrong passwords lock the account for a while after MAX_FAILURES;
they are counted in the key file (the store cannot be opened without the right password) and
written to the security log at the next successful sign-in.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import audit, crypto, keyfile, package_keys, sqldriver
from .errors import SignInError, ValidationError, WqError
from .keyfile import ACCOUNT, RECOVERY, KeyFile
from .store import Store

# Injected so tests can move the clock past a lockout.
now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731

RECOVERY_NAME = "（恢复码）"  # the lockout counter of 恢复码 attempts


@dataclass(frozen=True)
class Account:
    name: str
    created_at: str
    created_by: str
    password_changed_at: str | None
    disabled_at: str | None
    disabled_by: str | None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


def check_name(name: str) -> str:
    name = name.strip()
    if not 2 <= len(name) <= 20:
        raise ValidationError("账户名应为 2–20 个字（可用姓名，如 张三）。", "account")
    if any(ch.isspace() for ch in name) or name.startswith("（"):
        raise ValidationError("账户名不能包含空格。", "account")
    return name


def check_password(password: str, account: str, repeat: str | None = None) -> None:
    if repeat is not None and password != repeat:
        raise ValidationError("两次输入的密码不一致。", "password")
    problem = crypto.password_problem(password, account)
    if problem:
        raise ValidationError(problem, "password")


# ---------------------------------------------------------------- reading accounts
def list_accounts(store: Store) -> list[Account]:
    rows = store.conn.execute(
        "SELECT name, created_at, created_by, password_changed_at, disabled_at, disabled_by"
        " FROM account ORDER BY rowid").fetchall()  # in the order they were added
    return [Account(*row) for row in rows]


def get_account(store: Store, name: str) -> Account | None:
    return next((a for a in list_accounts(store) if a.name == name), None)


def accounts_for_sync(store: Store) -> list[dict[str, Any]]:
    """The laptop's accounts as the server registers them for its township (public facts only,
    never password material): a pushed change is accepted only from an author on this list.
    A plain store has no sign-in, so its authors (the names typed in 设置) go as not signed in."""
    listed = [{"name": a.name, "created_at": a.created_at, "disabled_at": a.disabled_at,
               "signed_in": True} for a in list_accounts(store)]
    if store.key is None:
        typed = [store.user, *pending_authors(store)]
    else:  # changes still waiting from before the store was encrypted name a typed user
        typed = json.loads(store.meta(AUTHORS_BEFORE_ENCRYPTION) or "[]")
    names = {a["name"] for a in listed}
    listed += [{"name": n, "created_at": None, "disabled_at": None, "signed_in": False}
               for n in dict.fromkeys(typed) if n not in names]
    return listed


AUTHORS_BEFORE_ENCRYPTION = "authors_before_encryption"  # meta: typed names of waiting changes


def pending_authors(store: Store) -> list[str]:
    """The authors of the changes waiting to be pushed."""
    return [r[0] for r in store.conn.execute(
        "SELECT DISTINCT user FROM outbox WHERE state='pending' ORDER BY user")]


# ---------------------------------------------------------------- new encrypted stores
def insert_account(store: Store, name: str, by: str) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO account (name, created_at, created_by, password_changed_at)"
                           " VALUES (?,?,?,?)", (name, store.clock(), by, store.clock()))
        audit.record(store, audit.ACCOUNT_ADDED, {"account": name})


def new_keys(data_key: bytes, account: str, password: str, at: str) -> tuple[KeyFile, str]:
    keys = KeyFile(store_id=str(uuid.uuid4()))
    keys.set_envelope(ACCOUNT, account, data_key, password, at)
    recovery = crypto.new_recovery_code()
    keys.set_envelope(RECOVERY, "", data_key, recovery, at)
    return keys, recovery


def create_encrypted_store(path: Path, account: str, password: str, *, repeat: str | None = None
                           ) -> tuple[Store, str]:
    """A new, empty encrypted store with its first account; returns (store, 恢复码).

    The 恢复码 is returned once and kept nowhere in clear: it must be printed or written down.
    """
    path = Path(path)
    account = check_name(account)
    check_password(password, account, repeat)
    if path.exists() or keyfile.exists(path):
        raise WqError(f"文件已存在，不会覆盖：{path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    data_key = os.urandom(sqldriver.KEY_BYTES)
    keys, recovery = new_keys(data_key, account, password, Store.clock())
    keyfile.save(path, keys)  # first: a store must never exist without a way to open it
    try:
        store = Store.open(path, account, create=True, key=data_key)
        insert_account(store, account, account)
        package_keys.device_private_key(store)  # the key pair the server seals USB reply packages to
    except BaseException:
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink(missing_ok=True)
        raise
    keyfile.remember(path, data_key)
    return store, recovery


# ---------------------------------------------------------------- signing in
def _locked_message(until: datetime) -> str:
    local = until.astimezone()
    return (f"连续 {keyfile.MAX_FAILURES} 次密码错误，该账户已锁定，"
            f"请于 {local:%H:%M} 后再试，或用恢复码重设密码。")


def _unwrap(path: Path, keys: KeyFile, kind: str, account: str, secret: str, event: str) -> bytes:
    counter = account if kind == ACCOUNT else RECOVERY_NAME
    moment = now()
    until = keys.locked_until(counter, moment)
    if until is not None:
        raise SignInError(_locked_message(until))
    try:
        return keys.open_envelope(kind, account, secret)
    except crypto.WrongSecret:
        keys.record_failure(counter, moment, event)
        keyfile.save(path, keys)
        until = keys.locked_until(counter, moment)
        if until is not None:
            raise SignInError(_locked_message(until)) from None
        what = "账户名或密码不正确" if kind == ACCOUNT else "恢复码不正确"
        raise SignInError(f"{what}（再错 {keys.failures_left(counter)} 次将锁定 "
                          f"{keyfile.LOCK_MINUTES} 分钟）。") from None


def _open_as(path: Path, account: str, data_key: bytes) -> Store:
    store = Store.open(path, account, key=data_key)
    found = get_account(store, account)
    if found is None or not found.enabled:
        store.close()
        raise SignInError("该账户已停用，不能登录。" if found else "该数据库中没有这个账户。")
    return store


def _flush_pending(store: Store, keys: KeyFile) -> None:
    for failure in keys.take_pending():
        event = failure.get("event") or audit.SIGN_IN_FAILED
        audit.record(store, event if event in audit.EVENT_LABELS else audit.SIGN_IN_FAILED,
                     {"when": failure["at"]}, account=failure["account"])


def sign_in(path: Path, account: str, password: str) -> Store:
    """Open an encrypted store as `account`; SignInError (nothing opened) when refused."""
    path = Path(path)
    keys = keyfile.load(path)
    account = account.strip()
    data_key = _unwrap(path, keys, ACCOUNT, account, password, audit.SIGN_IN_FAILED)
    store = _open_as(path, account, data_key)
    keys.clear_failures(account)
    with store.transaction():
        _flush_pending(store, keys)
        audit.record(store, audit.SIGN_IN)
    keyfile.save(path, keys)
    keyfile.remember(path, data_key)
    return store


def recover(path: Path, code: str, account: str, new_password: str, repeat: str | None = None
            ) -> Store:
    """Open with the 恢复码 and give `account` a new password (a forgotten one loses nothing)."""
    path = Path(path)
    account = account.strip()
    code = crypto.normalize_recovery_code(code)
    check_password(new_password, account, repeat)
    keys = keyfile.load(path)
    data_key = _unwrap(path, keys, RECOVERY, "", code, audit.RECOVERY_FAILED)
    store = _open_as(path, account, data_key)
    keys.clear_failures(RECOVERY_NAME)
    keys.clear_failures(account)
    keys.set_envelope(ACCOUNT, account, data_key, new_password, store.clock())
    keyfile.save(path, keys)
    with store.transaction():
        store.conn.execute("UPDATE account SET password_changed_at=? WHERE name=?",
                           (store.clock(), account))
        _flush_pending(store, keys)
        audit.record(store, audit.PASSWORD_RESET)
        audit.record(store, audit.SIGN_IN, {"with": "恢复码"})
    keyfile.save(path, keys)
    keyfile.remember(path, data_key)
    return store


def unlock(store: Store, account: str, password: str) -> None:
    """Unlock a locked window: `account` (the same or another one) proves its password.

    The store stays open meanwhile; a different account becomes the store's user from here on.
    """
    keys = keyfile.load(store.path)
    account = account.strip()
    try:
        data_key = _unwrap(store.path, keys, ACCOUNT, account, password, audit.UNLOCK_FAILED)
    except SignInError:
        with store.transaction():
            _flush_pending(store, keys)
        keyfile.save(store.path, keys)
        raise
    found = get_account(store, account)
    if data_key != store.key or found is None or not found.enabled:
        raise SignInError("该账户已停用，不能登录。" if found else "该数据库中没有这个账户。")
    keys.clear_failures(account)
    keyfile.save(store.path, keys)
    previous = store.user
    store.user = account
    audit.record(store, audit.UNLOCK, {} if previous == account else {"previous": previous})


def lock(store: Store) -> None:
    audit.record(store, audit.LOCK)


# ---------------------------------------------------------------- managing accounts
def _require_encrypted(store: Store) -> bytes:
    if store.key is None:
        raise WqError("该数据库未加密，没有本地账户：请先加密数据库。")
    return store.key


def add_account(store: Store, name: str, password: str, repeat: str | None = None) -> None:
    data_key = _require_encrypted(store)
    name = check_name(name)
    if get_account(store, name) is not None:
        raise ValidationError(f"账户“{name}”已存在（停用的账户也不能重名）。", "account")
    check_password(password, name, repeat)
    keys = keyfile.load(store.path)
    keys.set_envelope(ACCOUNT, name, data_key, password, store.clock())
    keyfile.save(store.path, keys)
    insert_account(store, name, store.user)


def disable_account(store: Store, name: str) -> None:
    _require_encrypted(store)
    found = get_account(store, name)
    if found is None or not found.enabled:
        raise ValidationError(f"账户“{name}”不存在或已停用。", "account")
    if name == store.user:
        raise ValidationError("不能停用当前登录的账户。", "account")
    keys = keyfile.load(store.path)
    keys.remove_envelope(ACCOUNT, name)  # its password no longer opens anything
    keyfile.save(store.path, keys)
    with store.transaction():
        store.conn.execute("UPDATE account SET disabled_at=?, disabled_by=? WHERE name=?",
                           (store.clock(), store.user, name))
        audit.record(store, audit.ACCOUNT_DISABLED, {"account": name})


def change_password(store: Store, old: str, new: str, repeat: str | None = None) -> None:
    """The signed-in account changes its own password (the old one must be right)."""
    data_key = _require_encrypted(store)
    check_password(new, store.user, repeat)
    keys = keyfile.load(store.path)
    try:
        if keys.open_envelope(ACCOUNT, store.user, old) != data_key:
            raise crypto.WrongSecret
    except crypto.WrongSecret:
        raise SignInError("原密码不正确，密码未修改。") from None
    keys.set_envelope(ACCOUNT, store.user, data_key, new, store.clock())
    keyfile.save(store.path, keys)
    with store.transaction():
        store.conn.execute("UPDATE account SET password_changed_at=? WHERE name=?",
                           (store.clock(), store.user))
        audit.record(store, audit.PASSWORD_CHANGED)


# ---------------------------------------------------------------- unlocking copies
def key_from_keyfile(store_path: Path, account: str, password: str) -> bytes:
    """The data key from the key file beside `store_path` (a backup's own), for a restore."""
    keys = keyfile.load(Path(store_path))
    try:
        return keys.open_envelope(ACCOUNT, account.strip(), password)
    except crypto.WrongSecret:
        raise SignInError("账户名或密码不正确。") from None
