"""Users, passwords (Argon2id) and expiring bearer tokens.

Roles: 乡镇 staff read and write their own township; the city office reads every township; the
admin manages users and townships (from the command line) and touches no records through sync.
Only a token's SHA-256 is stored, so a copied database file holds no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from wq_desktop.errors import WqError

from .db import ServerDB

STAFF, OFFICE, ADMIN = "staff", "office", "admin"
ROLES = {STAFF: "乡镇工作人员", OFFICE: "市级办公室（只读全部乡镇）", ADMIN: "系统管理员"}
TOKEN_HOURS = 12

_hasher = PasswordHasher()


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
    if len(password) < 8:
        raise WqError("密码至少8位。")
    township = None
    if role == STAFF:
        if not township_code:
            raise WqError("乡镇工作人员请用 --township 指定所属乡镇代码。")
        row = db.conn.execute("SELECT uuid FROM township WHERE code=? AND deleted=0",
                              (township_code,)).fetchone()
        if row is None:
            raise WqError(f"乡镇代码 {township_code} 不存在，请先用 addtownship 创建。")
        township = row[0]
    with db.writing():
        if db.conn.execute("SELECT 1 FROM srv_user WHERE name=?", (name,)).fetchone():
            raise WqError(f"用户 {name} 已存在。")
        db.conn.execute(
            "INSERT INTO srv_user (name, pw_hash, role, township, created_at) VALUES (?,?,?,?,?)",
            (name, _hasher.hash(password), role, township, _now().isoformat()))
    return User(name, role, township)


def login(db: ServerDB, name: str, password: str) -> tuple[str, str, User] | None:
    """A new token and its expiry time for a correct password, or None."""
    with db.reading() as conn:
        row = conn.execute("SELECT pw_hash, role, township FROM srv_user WHERE name=? AND disabled=0",
                           (name,)).fetchone()
    if row is None:
        _hasher.hash(password)  # same time for an unknown user as for a wrong password
        return None
    try:
        _hasher.verify(row[0], password)
    except (VerificationError, InvalidHashError):
        return None
    token = secrets.token_urlsafe(32)
    expires = (_now() + timedelta(hours=TOKEN_HOURS)).isoformat()
    with db.writing():
        db.conn.execute("DELETE FROM srv_token WHERE expires_at < ?", (_now().isoformat(),))
        db.conn.execute("INSERT INTO srv_token (token_hash, user, expires_at) VALUES (?,?,?)",
                        (_digest(token), name, expires))
    return token, expires, User(name, row[1], row[2])


def user_for_token(db: ServerDB, token: str) -> User | None:
    with db.reading() as conn:
        row = conn.execute(
            "SELECT u.name, u.role, u.township FROM srv_token t JOIN srv_user u ON u.name = t.user"
            " WHERE t.token_hash=? AND t.expires_at > ? AND u.disabled=0",
            (_digest(token), _now().isoformat())).fetchone()
    return User(*row) if row else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
