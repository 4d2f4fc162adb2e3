"""Photo files: stored once by SHA-256 in the data folder, with EXIF time and GPS when present."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, UnidentifiedImageError

from .errors import ValidationError
from .store import Store

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
    target = photo_path(store, info.sha256)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)  # atomic: a half-copied file never carries the final name
    existing = store.find_one("photo", "owner=? AND sha256=?", (owner_uuid, info.sha256))
    if existing:
        return existing["uuid"]
    return store.create("photo", {
        "owner_kind": owner_kind, "owner": owner_uuid, "sha256": info.sha256,
        "file_name": path.name, "size": info.size, "taken_at": info.taken_at,
        "lat": info.lat, "lon": info.lon})
