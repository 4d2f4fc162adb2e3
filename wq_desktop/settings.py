"""The user's settings: who is working, for which township and year, where the data lives, which
server to sync with. Kept as JSON at paths.settings_path(); a missing or damaged file gives defaults
rather than stopping the program."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

from . import paths
from .errors import ValidationError

AUTO_SYNC_MINUTES = 5  # how often the consented background sync runs while the window is open
DEFAULT_LOCK_MINUTES = 15
LOCK_MINUTES_RANGE = (1, 240)


@dataclass(frozen=True)
class Settings:
    user: str = ""
    township: str = ""
    default_year: int | None = None  # None: the latest year in the data
    data_folder: str = ""  # "" means paths.data_dir()
    server_url: str = ""
    last_store: str = ""
    ca_bundle: str = ""  # the office server's CA certificate (PEM) for self-signed HTTPS; "" = system
    # The user's consent to sync by itself in the background when the server is reachable.
    auto_sync: bool = False
    lock_minutes: int = DEFAULT_LOCK_MINUTES  # an encrypted store's window locks after this idle time

    @property
    def verify(self) -> bool | str:
        """What requests' `verify` gets: the CA file when one is set, else the system's trust."""
        return self.ca_bundle or True

    @property
    def data_path(self) -> Path:
        return Path(self.data_folder) if self.data_folder else paths.data_dir()

    @property
    def last_store_path(self) -> Path | None:
        return Path(self.last_store) if self.last_store else None

    def validated(self) -> Settings:
        """A normalized copy, or ValidationError naming the field that is wrong."""
        user = self.user.strip()
        if not user:
            raise ValidationError("请填写用户名：每条记录都要记下由谁录入。", "user")
        if len(user) > 40:
            raise ValidationError("用户名过长（最多40个字）。", "user")
        year = self.default_year
        if year is not None and not 2000 <= int(year) <= 2100:
            raise ValidationError(f"默认年度“{year}”不在 2000–2100 之间。", "default_year")
        url = self.server_url.strip().rstrip("/")
        if url and not re.fullmatch(r"https?://[^\s/]+(:\d+)?(/\S*)?", url):
            raise ValidationError(f"服务器地址“{url}”无效，应以 http:// 或 https:// 开头，"
                                  "如 https://wq.example.cn", "server_url")
        folder = self.data_folder.strip()
        if folder:
            target = Path(folder).expanduser()
            if target.exists() and not target.is_dir():
                raise ValidationError(f"数据文件夹“{folder}”是一个文件，不是文件夹。", "data_folder")
        ca_bundle = _checked_ca_bundle(self.ca_bundle.strip())
        low, high = LOCK_MINUTES_RANGE
        if not low <= int(self.lock_minutes) <= high:
            raise ValidationError(f"自动锁定时间应在 {low}–{high} 分钟之间。", "lock_minutes")
        return replace(self, user=user, township=self.township.strip(), server_url=url,
                       data_folder=folder, default_year=int(year) if year is not None else None,
                       ca_bundle=ca_bundle)

    def year_or(self, fallback: int | None) -> int:
        return self.default_year or fallback or date.today().year


def _checked_ca_bundle(text: str) -> str:
    """Empty, or the absolute path of a readable PEM certificate file (all requests can use)."""
    if not text:
        return ""
    path = Path(text).expanduser()
    if not path.is_file():
        raise ValidationError(f"证书文件“{text}”不存在或不是文件。", "ca_bundle")
    try:
        head = path.read_bytes()[:1_000_000]
    except OSError:
        raise ValidationError(f"证书文件“{text}”无法读取，请检查文件权限。", "ca_bundle") from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise ValidationError(f"“{path.name}”不是证书文件：请选择管理员提供的 PEM 格式证书"
                              "（.pem / .crt）。", "ca_bundle")
    return str(path.resolve())


def _from_json(data: dict[str, Any]) -> Settings:
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in data.items() if k in known}
    for key in ("user", "township", "data_folder", "server_url", "last_store", "ca_bundle"):
        if key in values and not isinstance(values[key], str):
            values[key] = str(values[key] or "")
    values["auto_sync"] = values.get("auto_sync") is True
    year = values.get("default_year")
    values["default_year"] = year if isinstance(year, int) and 2000 <= year <= 2100 else None
    minutes = values.get("lock_minutes")
    low, high = LOCK_MINUTES_RANGE
    values["lock_minutes"] = (minutes if isinstance(minutes, int) and low <= minutes <= high
                              else DEFAULT_LOCK_MINUTES)
    return Settings(**values)


def load(path: Path | None = None) -> Settings:
    path = path or paths.settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    return _from_json(data) if isinstance(data, dict) else Settings()


def save(settings: Settings, path: Path | None = None) -> Settings:
    """Validate and write atomically (a crash mid-write never leaves half a file)."""
    settings = settings.validated()
    path = path or paths.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return settings
