"""Users, passwords (Argon2id) and expiring bearer tokens.

Roles: 乡镇 staff read and write their own township; the city office reads every township; the
admin manages users and townships (from the command line) and touches no records through sync.
Only a token's SHA-256 is stored, so a copied database file holds no usable token. Disabling a user
or resetting their password deletes their tokens, so a device still holding one is refused at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException

from wq_desktop.errors import WqError

from .db import ServerDB

STAFF, OFFICE, ADMIN = "staff", "office", "admin"
ROLES = {STAFF: "乡镇工作人员", OFFICE: "市级办公室（只读全部乡镇）", ADMIN: "系统管理员"}
TOKEN_HOURS = 12

_hasher = PasswordHasher()
MIN_PASSWORD = 10
MAX_PASSWORD = 128  # the login request's own limit (bodies.Login)


class AccountDisabled(HTTPException):
    """The right password for a disabled account: said plainly, so the user calls the admin
    instead of trying passwords. Only someone who knows the password learns the account exists."""

    def __init__(self, name: str) -> None:
        super().__init__(401, f"账号“{name}”已被管理员停用，不能登录同步。如需恢复请联系管理员。")


@dataclass(frozen=True)
class UserRow:
    """One line of `list-users`."""

    name: str
    role: str
    township: str  # "代码 名称" for staff, "" otherwise
    disabled: bool
    created_at: str
    tokens: int  # unexpired tokens: devices logged in right now


@dataclass(frozen=True)
class User:
    name: str
    role: str
    township: str | None  # the township record's UUID, for staff

    @property
    def can_write(self) -> bool:
        return self.role == STAFF

    def can_read(self, township: str | None) -> bool:
        return self.role == OFFICE or (self.role == STAFF and township == self.township)


def _now() -> datetime:
    return datetime.now(UTC)


def add_user(db: ServerDB, name: str, password: str, role: str, township_code: str | None) -> User:
    name = name.strip()
    if not name:
        raise WqError("请填写用户名。")
    if role not in ROLES:
        raise WqError(f"角色只能是：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}。")
    check_password_policy(password, name)
    township = None
    if role == STAFF:
        if not township_code:
            raise WqError("乡镇工作人员请用 --township 指定所属乡镇代码。")
        with db.reading() as session:
            found = session.township_by_code(township_code)
        if found is None:
            raise WqError(f"乡镇代码 {township_code} 不存在，请先用 addtownship 创建。")
        township = found
    with db.writing() as conn:
        if conn.execute("SELECT 1 FROM srv_user WHERE name=?", (name,)).fetchone():
            raise WqError(f"用户 {name} 已存在。")
        conn.execute(
            "INSERT INTO srv_user (name, pw_hash, role, township, created_at) VALUES (?,?,?,?,?)",
            (name, _hasher.hash(password), role, township, _now().isoformat()))
    return User(name, role, township)


def check_password_policy(password: str, name: str) -> None:
    """Refuse passwords a script guesses first: short ones, the user's own name, only digits."""
    if len(password) < MIN_PASSWORD:
        raise WqError(f"密码至少{MIN_PASSWORD}位。")
    if len(password) > MAX_PASSWORD:
        raise WqError(f"密码最多{MAX_PASSWORD}位。")
    if password.isdigit():
        raise WqError("密码不能全是数字（生日、电话、身份证号都容易被猜到），请加入字母或符号。")
    name = name.strip().casefold()
    # One or two Latin letters would refuse passwords that merely share them; two Chinese
    # characters are a whole name.
    telling = len(name) >= 3 or (len(name) == 2 and not name.isascii())
    if name and (name == password.casefold() or (telling and name in password.casefold())):
        raise WqError("密码不能包含用户名。")
    if len(set(password)) < 4:
        raise WqError("密码中不同的字符太少，请换一个不易猜到的密码。")


def existing_user(db: ServerDB, name: str) -> str:
    """The stripped name of an existing user, or a Chinese error."""
    name = name.strip()
    with db.reading() as conn:
        found = conn.execute("SELECT 1 FROM srv_user WHERE name=?", (name,)).fetchone()
    if not found:
        raise WqError(f"用户“{name}”不存在。可用 list-users 查看全部用户。")
    return name


def set_password(db: ServerDB, name: str, password: str) -> int:
    """Reset a password; every token the user holds is revoked. Returns how many were."""
    check_password_policy(password, name)
    name = existing_user(db, name)
    with db.writing() as conn:
        conn.execute("UPDATE srv_user SET pw_hash=? WHERE name=?", (_hasher.hash(password), name))
        return conn.execute('DELETE FROM srv_token WHERE "user"=?', (name,)).rowcount


def set_disabled(db: ServerDB, name: str, disabled: bool) -> int:
    """Disable (revoking every token at once) or enable a user. Returns the tokens revoked."""
    name = existing_user(db, name)
    with db.writing() as conn:
        conn.execute("UPDATE srv_user SET disabled=? WHERE name=?", (int(disabled), name))
        if not disabled:
            return 0
        return conn.execute('DELETE FROM srv_token WHERE "user"=?', (name,)).rowcount


def list_users(db: ServerDB) -> list[UserRow]:
    with db.reading() as conn:
        rows = conn.execute(
            "SELECT u.name, u.role, u.township, u.disabled, u.created_at,"
            " (SELECT count(*) FROM srv_token k WHERE k.\"user\" = u.name AND k.expires_at > ?)"
            " FROM srv_user u ORDER BY u.role, u.name", (_now().isoformat(),)).fetchall()
        towns = conn.township_names()
    return [UserRow(n, r, towns.get(t, ""), bool(d), c, k) for n, r, t, d, c, k in rows]


def login(db: ServerDB, name: str, password: str) -> tuple[str, str, User] | None:
    """A new token and its expiry time for a correct password, or None. A correct password for a
    disabled account raises AccountDisabled."""
    with db.reading() as conn:
        row = conn.execute("SELECT pw_hash, role, township, disabled FROM srv_user WHERE name=?",
                           (name,)).fetchone()
    if row is None:
        _hasher.hash(password)  # same time for an unknown user as for a wrong password
        return None
    try:
        _hasher.verify(row[0], password)
    except (VerificationError, InvalidHashError):
        return None
    if row[3]:
        raise AccountDisabled(name)
    token = secrets.token_urlsafe(32)
    expires = (_now() + timedelta(hours=TOKEN_HOURS)).isoformat()
    with db.writing() as conn:  # no township: a login takes no write lock on PostgreSQL
        conn.execute("DELETE FROM srv_token WHERE expires_at < ?", (_now().isoformat(),))
        conn.execute('INSERT INTO srv_token (token_hash, "user", expires_at) VALUES (?,?,?)',
                     (_digest(token), name, expires))
    return token, expires, User(name, row[1], row[2])


def user_for_token(db: ServerDB, token: str) -> User | None:
    with db.reading() as conn:
        row = conn.execute(
            'SELECT u.name, u.role, u.township FROM srv_token t JOIN srv_user u ON u.name = t."user"'
            " WHERE t.token_hash=? AND t.expires_at > ? AND u.disabled=0",
            (_digest(token), _now().isoformat())).fetchone()
    return User(*row) if row else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_token(db: ServerDB, token: str) -> None:
    """Sign one session out (the web view's 退出): only this token, the user's laptops stay in."""
    with db.writing() as conn:
        conn.execute("DELETE FROM srv_token WHERE token_hash=?", (_digest(token),))
