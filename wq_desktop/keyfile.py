"""The key file beside an encrypted store (`<store>.keys`): the data key wrapped once per local
account and once by the 恢复码, plus the sign-in failure counters.

It must be readable before the store is open, so it lives outside the encrypted file. It holds no
secret in usable form: each envelope needs its password (or the 恢复码) and an argon2id
derivation to open. Every envelope is bound (AES-GCM associated data) to this store and to the
account it belongs to, so an envelope moved to another account name does not open.

Backups carry a copy of it (`<backup>.keys`); without key file and 恢复码 an encrypted store is
unreadable, which is the point.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import sqldriver
from .errors import WqError

# crypto (argon2, cryptography) is imported where a key is wrapped or unwrapped: opening a plain
# store, which only asks whether a key file exists, does not load it.
if TYPE_CHECKING:
    from . import crypto

SUFFIX = ".keys"
FORMAT = "wq-desktop-keys"
RECOVERY = "recovery"
ACCOUNT = "account"

MAX_FAILURES = 5  # wrong passwords in a row before the account is locked …
LOCK_MINUTES = 15  # … for this long
_PENDING_LIMIT = 200  # failures kept for the security log until the next sign-in


def path_for(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + SUFFIX)


def _hex(data: bytes) -> str:
    return data.hex()


@dataclass
class Envelope:
    kind: str  # ACCOUNT or RECOVERY
    account: str  # "" for the 恢复码
    wrapped: crypto.Wrapped
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "account": self.account, "created_at": self.created_at,
                "kdf": {"alg": "argon2id", **self.wrapped.params.as_dict()},
                "salt": _hex(self.wrapped.salt), "nonce": _hex(self.wrapped.nonce),
                "wrapped_key": _hex(self.wrapped.ciphertext)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Envelope:
        from . import crypto

        wrapped = crypto.Wrapped(bytes.fromhex(data["salt"]), bytes.fromhex(data["nonce"]),
                                 bytes.fromhex(data["wrapped_key"]),
                                 crypto.KdfParams.from_dict(data["kdf"]))
        return cls(str(data["kind"]), str(data["account"]), wrapped, str(data["created_at"]))


@dataclass
class KeyFile:
    store_id: str
    envelopes: list[Envelope] = field(default_factory=list)
    # account -> {"count": n, "locked_until": iso | None}
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)
    # failed attempts not yet written to the store's security log (it cannot be opened then)
    pending: list[dict[str, str]] = field(default_factory=list)

    def aad(self, kind: str, account: str) -> bytes:
        return json.dumps([FORMAT, self.store_id, kind, account], ensure_ascii=False).encode()

    def envelope(self, kind: str, account: str = "") -> Envelope | None:
        return next((e for e in self.envelopes if e.kind == kind and e.account == account), None)

    def set_envelope(self, kind: str, account: str, data_key: bytes, secret: str, at: str) -> None:
        from . import crypto

        self.envelopes = [e for e in self.envelopes if not (e.kind == kind and e.account == account)]
        self.envelopes.append(Envelope(kind, account, crypto.wrap(data_key, secret,
                                                                  self.aad(kind, account)), at))

    def remove_envelope(self, kind: str, account: str) -> None:
        self.envelopes = [e for e in self.envelopes if not (e.kind == kind and e.account == account)]

    def open_envelope(self, kind: str, account: str, secret: str) -> bytes:
        """The data key, or crypto.WrongSecret (also when there is no such envelope)."""
        from . import crypto

        env = self.envelope(kind, account)
        if env is None:
            # Same cost and answer as a wrong password: no hint which account names exist.
            crypto.derive(secret, b"\0" * 16, crypto.current_kdf())
            raise crypto.WrongSecret
        return crypto.unwrap(env.wrapped, secret, self.aad(kind, account))

    # -------------------------------------------------------- failures and lockout
    def locked_until(self, account: str, now: datetime) -> datetime | None:
        state = self.failures.get(account) or {}
        until = state.get("locked_until")
        if until and datetime.fromisoformat(until) > now:
            return datetime.fromisoformat(until)
        return None

    def failures_left(self, account: str) -> int:
        return MAX_FAILURES - int((self.failures.get(account) or {}).get("count", 0))

    def record_failure(self, account: str, now: datetime, event: str) -> None:
        state = self.failures.setdefault(account, {"count": 0, "locked_until": None})
        if state.get("locked_until") and datetime.fromisoformat(state["locked_until"]) <= now:
            state["count"] = 0  # the lock ran out: a fresh series of attempts
            state["locked_until"] = None
        state["count"] = int(state.get("count", 0)) + 1
        if state["count"] >= MAX_FAILURES:
            state["locked_until"] = (now + timedelta(minutes=LOCK_MINUTES)).isoformat()
        failure = {"account": account, "at": _iso(now), "event": event}
        self.pending = [*self.pending, failure][-_PENDING_LIMIT:]

    def clear_failures(self, account: str) -> None:
        self.failures.pop(account, None)

    def take_pending(self) -> list[dict[str, str]]:
        pending, self.pending = self.pending, []
        return pending

    # -------------------------------------------------------- file
    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": 1, "store_id": self.store_id,
                "cipher": "sqlcipher4-raw-key",
                "envelopes": [e.to_json() for e in self.envelopes],
                "failures": self.failures, "pending": self.pending}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


_lock = threading.Lock()


def load(store_path: Path) -> KeyFile:
    path = path_for(store_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(data.get("format"))
        return KeyFile(str(data["store_id"]), [Envelope.from_json(e) for e in data["envelopes"]],
                       dict(data.get("failures") or {}), list(data.get("pending") or []))
    except FileNotFoundError:
        raise WqError(f"找不到该加密数据库的密钥文件 {path.name}（应与数据库在同一文件夹）。"
                      "请从备份中找回，或用恢复码打开。") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise WqError(f"密钥文件 {path.name} 已损坏，无法读取（{type(err).__name__}）。") from None


def save(store_path: Path, keys: KeyFile) -> None:
    """Write atomically: a crash mid-write never leaves a half key file."""
    path = path_for(store_path)
    tmp = path.with_name(path.name + ".tmp")
    with _lock:
        tmp.write_text(json.dumps(keys.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def exists(store_path: Path) -> bool:
    return path_for(store_path).is_file()


def copy(source_store: Path, target_store: Path) -> None:
    """Copy the key file of one store file to go with another (a backup, a restored file)."""
    src = path_for(source_store)
    if src.is_file():
        tmp = path_for(target_store).with_name(path_for(target_store).name + ".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, path_for(target_store))


# ---------------------------------------------------------------- unlocked stores
# Data keys of the stores this process has signed in to, by resolved path: worker threads open
# their own connections (Store.open) to the same file without asking for the password again.
_unlocked: dict[Path, bytes] = {}


def remember(store_path: Path, data_key: bytes) -> None:
    _unlocked[Path(store_path).resolve()] = data_key


def unlocked_key(store_path: Path) -> bytes | None:
    return _unlocked.get(Path(store_path).resolve())


def forget(store_path: Path) -> None:
    _unlocked.pop(Path(store_path).resolve(), None)


def is_encrypted_store(store_path: Path) -> bool:
    """An encrypted store file: no plain SQLite header, and its key file beside it (a file of
    random bytes with no key file is just not a database, and is reported as such)."""
    # The key file first: reading the header opens and closes the store file, and closing any
    # descriptor of a file drops every POSIX lock this process holds on it, SQLite's included.
    # A process with the store open (the server's request threads, a window's workers) would
    # then see itself as the last connection on close and delete the WAL under the others, whose
    # later commits land in the unlinked file and vanish. Plain stores have no key file.
    return exists(Path(store_path)) and sqldriver.is_encrypted_file(Path(store_path))
