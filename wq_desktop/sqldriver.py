"""The one SQLite driver for store files: SQLCipher (`sqlcipher3`), plain or encrypted.

SQLCipher is SQLite with page encryption; a connection without a key reads and writes ordinary
SQLite files, so the plain demo store and the encrypted stores share one driver, one set of
exception classes and one online backup API (which only copies between connections of the same
driver and, for encrypted files, the same key: an encrypted store can never be backed up in clear).

The key must be the first statement on a connection (SQLCipher reads nothing before it). We use a
raw 256-bit key (`x'…'`), so SQLCipher's own PBKDF2 is skipped: the key is random, the
password-based derivation (argon2id) happens once per sign-in in crypto.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from sqlcipher3 import dbapi2 as driver

Connection = driver.Connection
DatabaseError = driver.DatabaseError
OperationalError = driver.OperationalError
IntegrityError = driver.IntegrityError

KEY_BYTES = 32
IN_CHUNK = 500  # values in one IN (…) list: well under SQLite's limit of bound variables
_T = TypeVar("_T")
_PLAIN_HEADER = b"SQLite format 3\x00"


def connect(target: str | Path, *, key: bytes | None = None, uri: bool = False,
            **kwargs: object) -> driver.Connection:
    """A connection to a store file; with `key`, keyed before any other statement."""
    conn = driver.connect(str(target), uri=uri, **kwargs)  # type: ignore[arg-type]
    if key is not None:
        if len(key) != KEY_BYTES:
            conn.close()
            raise ValueError("data key must be 32 bytes")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


def connect_readonly(path: Path, *, key: bytes | None = None) -> driver.Connection:
    return connect(f"{path.resolve().as_uri()}?mode=ro", key=key, uri=True)


def is_encrypted_file(path: Path) -> bool:
    """True for a non-empty file that is not a plain SQLite database (SQLCipher has no header)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return len(head) == 16 and head != _PLAIN_HEADER


def _quiet() -> None:
    # SQLCipher logs every failed page decryption (a wrong key, a plain probe of an encrypted
    # file) to stderr by default; our own messages say what happened.
    conn = driver.connect(":memory:")
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
    finally:
        conn.close()


_quiet()


def in_lists(values: Sequence[_T], size: int = IN_CHUNK) -> Iterator[tuple[str, list[_T]]]:
    """("?,?,…", the values) for each slice of at most `size` of them: one query per slice
    for a list of UUIDs of any length."""
    for start in range(0, len(values), size):
        part = list(values[start:start + size])
        yield ",".join("?" * len(part)), part
