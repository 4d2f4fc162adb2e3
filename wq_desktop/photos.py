"""Photo files: stored once by SHA-256 in the data folder, with EXIF time and GPS when present.

An encrypted store keeps its photo files encrypted too (a photo of a signed agreement shows the
name and ID number): AES-256-GCM with a key derived from the store's data key, the SHA-256 of
the plain photo as associated data (a file renamed to another photo's name does not open).
Everything that reads or writes a photo goes through `photo_bytes` / `store_photo_bytes`, so the
window, printing, sync and USB packages see the plain photo and its hash; files written before
(plain JPEGs) are still read, and `encrypt_photo_files` converts them when a store is encrypted.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ValidationError, WqError
from .store import Store

# cryptography and PIL are imported where a photo is sealed, opened or read: counting photo
# files (the window's status bar) does not load them.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Phones make 5–15 MB photos; anything far above is not a field photo.
MAX_PHOTO_BYTES = 40 * 1024 * 1024
_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769


@dataclass(frozen=True)
class PhotoInfo:
    sha256: str
    size: int
    taken_at: str | None  # "2026-10-12T15:04:05" as the camera wrote it (local time)
    lat: float | None
    lon: float | None


def photo_dir(store: Store) -> Path:
    return store.path.parent / f"{store.path.stem}_photos"


def photo_path(store: Store, sha256: str) -> Path:
    return photo_dir(store) / sha256[:2] / sha256


_MAGIC = b"WQPHOTO1"
_NONCE = 12
OVERHEAD = len(_MAGIC) + _NONCE + 16  # bytes an encrypted file has beyond the photo


def _photo_cipher(store: Store) -> AESGCM | None:
    """The photo files' cipher of an encrypted store (None for a plain store)."""
    if store.key is None:
        return None
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"wq-desktop photo files v1").derive(store.key)
    return AESGCM(key)


def is_encrypted_photo(path: Path) -> bool:
    with Path(path).open("rb") as fh:
        return fh.read(len(_MAGIC)) == _MAGIC


def has_photo(store: Store, sha256: str) -> bool:
    return photo_path(store, sha256).is_file()


def photo_size(store: Store, sha256: str) -> int:
    """Size of the photo itself (what the server and the size limit count)."""
    path = photo_path(store, sha256)
    size = path.stat().st_size
    return size - OVERHEAD if is_encrypted_photo(path) else size


def photo_bytes(store: Store, sha256: str) -> bytes:
    """The plain photo, whether its file is encrypted or (written before encryption) not."""
    data = photo_path(store, sha256).read_bytes()
    if not data.startswith(_MAGIC):
        return data
    cipher = _photo_cipher(store)
    if cipher is None:
        raise WqError(f"照片 {sha256[:12]} 已加密，需要登录加密数据库后才能查看。")
    from cryptography.exceptions import InvalidTag

    nonce = data[len(_MAGIC):len(_MAGIC) + _NONCE]
    try:
        return cipher.decrypt(nonce, data[len(_MAGIC) + _NONCE:], sha256.encode())
    except InvalidTag:
        raise WqError(f"照片文件 {sha256[:12]} 已损坏或不属于本数据库。") from None


def _sealed(store: Store, sha256: str, data: bytes) -> bytes:
    cipher = _photo_cipher(store)
    if cipher is None:
        return data
    nonce = os.urandom(_NONCE)
    return _MAGIC + nonce + cipher.encrypt(nonce, data, sha256.encode())


def store_photo_bytes(store: Store, sha256: str, data: bytes) -> Path:
    """Write a photo file (encrypted in an encrypted store) unless it is there already.
    Atomic: a half-written file never carries the final name."""
    target = photo_path(store, sha256)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(_sealed(store, sha256, data))
        tmp.replace(target)
    return target


def encrypt_photo_files(store: Store, folder: Path | None = None) -> int:
    """Encrypt the plain photo files of a store that has just been encrypted (in its photo
    folder, or `folder` laid out the same way: its backups' photos); returns how many."""
    folder = folder or photo_dir(store)
    done = 0
    for path in sorted(folder.glob("??/*")) if folder.is_dir() else []:
        if path.suffix or is_encrypted_photo(path):
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != path.name:
            continue  # not a photo this program wrote: leave it alone
        tmp = path.with_suffix(".part")
        tmp.write_bytes(_sealed(store, path.name, data))
        tmp.replace(path)
        done += 1
    return done


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _dms_to_degrees(dms: tuple, ref: str) -> float:
    degrees = float(dms[0]) + float(dms[1]) / 60 + float(dms[2]) / 3600
    return -degrees if ref in ("S", "W") else degrees


def read_photo(path: Path) -> PhotoInfo:
    """Check the file is an image and read its EXIF capture time and GPS position."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"照片文件不存在：{path}")
    size = path.stat().st_size
    if size > MAX_PHOTO_BYTES:
        raise ValidationError(
            f"照片 {path.name} 有 {size / 1048576:.1f} MB，超过 {MAX_PHOTO_BYTES // 1048576} MB 上限。")
    from PIL import ExifTags, Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            exif = img.getexif()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ValidationError(f"文件 {path.name} 不是可识别的图片。") from None
    taken = exif.get_ifd(_EXIF_IFD).get(ExifTags.Base.DateTimeOriginal) or exif.get(
        ExifTags.Base.DateTime)
    taken_at = None
    if isinstance(taken, str) and len(taken) >= 19:
        taken_at = taken[:10].replace(":", "-") + "T" + taken[11:19]
    lat = lon = None
    gps = exif.get_ifd(_GPS_IFD)
    try:
        if gps.get(2) and gps.get(4):
            lat = _dms_to_degrees(gps[2], gps.get(1, "N"))
            lon = _dms_to_degrees(gps[4], gps.get(3, "E"))
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        lat = lon = None  # a broken GPS block is common; keep the photo without a position
    return PhotoInfo(file_sha256(path), size, taken_at, lat, lon)


def attach_photo(store: Store, owner_kind: str, owner_uuid: str, path: Path | str) -> str:
    """Copy the photo into the store's photo folder (once per content) and link it to a record."""
    path = Path(path)
    info = read_photo(path)
    if not has_photo(store, info.sha256):
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise ValidationError(f"照片 {path.name} 在读取时被改动，请重新添加。")
        store_photo_bytes(store, info.sha256, data)
    existing = store.find_one("photo", "owner=? AND sha256=?", (owner_uuid, info.sha256))
    if existing:
        return existing["uuid"]
    return store.create("photo", {
        "owner_kind": owner_kind, "owner": owner_uuid, "sha256": info.sha256,
        "file_name": path.name, "size": info.size, "taken_at": info.taken_at,
        "lat": info.lat, "lon": info.lon})
