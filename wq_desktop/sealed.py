"""Files sealed to a recipient's public key: USB sync packages and their replies.

A lost USB stick must leak nothing, so a package is encrypted to the one key that may open it:
the central server's (packages going in) or the laptop's own (replies coming back). The scheme
is the usual one for sealing to an X25519 key (as in age or HPKE's base mode): an ephemeral
X25519 key agreement with the recipient's public key, HKDF-SHA256 to an AES-256 key, and the
content in AES-256-GCM chunks of 1 MiB (the STREAM construction: each nonce carries the chunk's
number and a last-chunk flag, so chunks cannot be reordered, dropped or cut off unnoticed).

The small header in clear names the recipient key's fingerprint, so a package brought to the
wrong server is refused with a sentence instead of a decryption error. The header is the
associated data of every chunk: changing it spoils them all.

`verify` reads every chunk once before anything uses the content, so a tampered file is refused
as a whole and changes nothing; `SealedReader` then gives random access (what zipfile needs)
decrypting one chunk at a time, so neither side ever writes the plain content to a disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import WqError

MAGIC = b"WQSEALED1\n"
FORMAT = "wq-sealed"
CHUNK = 1 << 20
TAG = 16
_INFO = b"wq-desktop sealed file v1"
_MAX_HEADER = 4096


class SealError(WqError):
    """A sealed file that cannot be opened here (wrong recipient, damaged, tampered)."""


class NotSealed(SealError):
    """The file has no sealed header at all (a plain zip from an older program, or other)."""


# ---------------------------------------------------------------- keys
def new_private_key() -> bytes:
    return X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def public_of(private_key: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw public key, hex: what the header names and what is compared."""
    return hashlib.sha256(public_key).hexdigest()


def shown_fingerprint(public_key_or_fp: bytes | str) -> str:
    """The fingerprint as people read it to each other: 6 groups of 4, e.g. 3F2A-91C0-…"""
    fp = public_key_or_fp if isinstance(public_key_or_fp, str) else fingerprint(public_key_or_fp)
    return "-".join(fp[i:i + 4] for i in range(0, 24, 4)).upper()


def public_key_from_hex(text: Any) -> bytes:
    try:
        key = bytes.fromhex(str(text))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise SealError("公钥格式不正确（应为 64 位十六进制）。")
    return key


def _content_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient,
                info=_INFO).derive(shared)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


# ---------------------------------------------------------------- writing
class SealingWriter(io.RawIOBase):
    """A write-only, non-seekable stream that seals what is written into `out` (zipfile writes
    a streamed zip into it). `close()` writes the last chunk; `out` stays open."""

    def __init__(self, out: BinaryIO, recipient: bytes, purpose: str) -> None:
        super().__init__()
        eph = X25519PrivateKey.generate()
        eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
        shared = eph.exchange(X25519PublicKey.from_public_bytes(recipient))
        self._aead = AESGCM(_content_key(shared, eph_pub, recipient))
        self._prefix = os.urandom(7)
        header = json.dumps({"format": FORMAT, "version": 1, "purpose": purpose,
                             "to": fingerprint(recipient), "ephemeral": eph_pub.hex(),
                             "nonce": self._prefix.hex(), "chunk": CHUNK}).encode()
        self._aad = MAGIC + struct.pack(">I", len(header)) + header
        self._out = out
        self._out.write(self._aad)
        self._buffer = bytearray()
        self._index = 0
        self._written = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Any) -> int:
        data = bytes(data)
        self._buffer += data
        self._written += len(data)
        while len(self._buffer) > CHUNK:  # keep one chunk back: only close() knows the last one
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _emit(self, chunk: bytes, last: bool) -> None:
        self._out.write(self._aead.encrypt(_nonce(self._prefix, self._index, last), chunk, self._aad))
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()


def seal_bytes(data: bytes, recipient: bytes, purpose: str) -> bytes:
    out = io.BytesIO()
    with SealingWriter(out, recipient, purpose) as w:
        w.write(data)
    return out.getvalue()


# ---------------------------------------------------------------- reading
def read_header(fh: BinaryIO) -> tuple[dict[str, Any], bytes]:
    """The clear header and the exact bytes it was sealed with; NotSealed when there is none."""
    fh.seek(0)
    start = fh.read(len(MAGIC) + 4)
    if len(start) < len(MAGIC) + 4 or not start.startswith(MAGIC):
        raise NotSealed("该文件不是加密的同步包。")
    (size,) = struct.unpack(">I", start[len(MAGIC):])
    if size > _MAX_HEADER:
        raise SealError("同步包已损坏（文件头不正确）。")
    raw = fh.read(size)
    try:
        header = json.loads(raw)
        if header.get("format") != FORMAT or header.get("version") != 1 \
                or header.get("chunk") != CHUNK:
            raise ValueError
        bytes.fromhex(header["ephemeral"])
        bytes.fromhex(header["nonce"])
        str(header["to"])
    except (ValueError, TypeError, KeyError, AttributeError):
        raise SealError("同步包已损坏（文件头不正确）。") from None
    return header, start + raw


def recipient_of(path: Path) -> str:
    """The fingerprint of the key a sealed file is for (NotSealed for anything else)."""
    with Path(path).open("rb") as fh:
        return str(read_header(fh)[0]["to"])


class SealedReader(io.RawIOBase):
    """Random access to a sealed file's content, one chunk decrypted at a time. Construct it only
    after `verify`: a chunk that fails here (the file changed since) raises SealError."""

    def __init__(self, fh: BinaryIO, private_key: bytes) -> None:
        super().__init__()
        header, aad = read_header(fh)
        me = public_of(private_key)
        if header["to"] != fingerprint(me):
            raise SealError("此文件不是为本机密钥加密的，无法打开。")  # callers say more, first
        eph_pub = bytes.fromhex(header["ephemeral"])
        try:
            shared = X25519PrivateKey.from_private_bytes(private_key).exchange(
                X25519PublicKey.from_public_bytes(eph_pub))
        except ValueError:
            raise SealError("同步包已损坏（文件头不正确）。") from None
        self._aead = AESGCM(_content_key(shared, eph_pub, me))
        self._prefix = bytes.fromhex(header["nonce"])
        self._aad = aad
        self._fh = fh
        self._start = len(aad)
        body = fh.seek(0, io.SEEK_END) - self._start
        self._chunks = max(1, -(-body // (CHUNK + TAG)))
        last = body - (self._chunks - 1) * (CHUNK + TAG)
        if body < TAG or last < TAG or len(self._prefix) != 7:
            raise SealError("同步包不完整（文件被截断），请重新导出。")
        self.size = (self._chunks - 1) * CHUNK + last - TAG
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def _chunk(self, index: int) -> bytes:
        if self._cached and self._cached[0] == index:
            return self._cached[1]
        self._fh.seek(self._start + index * (CHUNK + TAG))
        sealed = self._fh.read(CHUNK + TAG)
        try:
            plain = self._aead.decrypt(_nonce(self._prefix, index, index == self._chunks - 1),
                                       sealed, self._aad)
        except InvalidTag:
            raise SealError("同步包已被改动或损坏（校验未通过），未导入任何内容。请重新导出。") from None
        self._cached = (index, plain)
        return plain

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self._pos + n)
        parts = []
        while self._pos < end:
            index, within = divmod(self._pos, CHUNK)
            piece = self._chunk(index)[within:within + end - self._pos]
            parts.append(piece)
            self._pos += len(piece)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def verify(self) -> None:
        """Decrypt every chunk once (nothing kept): SealError if any was changed or cut off."""
        for index in range(self._chunks):
            self._cached = None
            self._chunk(index)
        self._cached = None
