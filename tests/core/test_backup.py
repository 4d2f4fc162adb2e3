"""Backups: made with SQLite's online backup, pruned by age, restored with the old file kept aside."""

from __future__ import annotations

import io
import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from wq_desktop import backup
from wq_desktop.backup import (
    backup_now,
    ensure_daily_backup,
    list_backups,
    prune_backups,
    restore_backup,
)
from wq_desktop.cli import main as cli_main
from wq_desktop.errors import WqError
from wq_desktop.store import Store


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("WQ_DATA_DIR", str(folder))
    return folder


def _set_clock(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    monkeypatch.setattr(backup, "now", lambda: when)


def _village_names(path: Path) -> list[str]:
    with Store.open(path, "测试员") as s:
        return sorted(v["name"] for v in s.find("village"))


def _add_village(store: Store, name: str) -> str:
    township = store.create("township", {"code": "652301105", "name": "六工镇"}) \
        if not store.count("township") else store.find("township")[0]["uuid"]
    code = f"652301105{900 + len(name)}"
    return store.create("village", {"township": township, "name": name, "code": code})


def test_backup_is_a_complete_copy_in_the_data_folder(store: Store, data_folder: Path) -> None:
    _add_village(store, "新渠村")  # committed but possibly still only in the WAL file
    made = backup_now(store.path)
    assert made.parent == data_folder / "backups"
    assert made.name.startswith("test_") and made.suffix == ".sqlite"
    assert _village_names(made) == ["新渠村"]
    assert [b.path for b in list_backups(store.path)] == [made]


def test_backup_of_missing_or_foreign_file_says_so(tmp_path: Path, data_folder: Path) -> None:
    with pytest.raises(WqError, match="数据库文件不存在"):
        backup_now(tmp_path / "nope.sqlite")
    junk = tmp_path / "notes.sqlite"
    junk.write_text("这不是数据库", encoding="utf-8")
    with pytest.raises(WqError, match="无法"):
        backup_now(junk)
    assert list_backups() == []  # no half-written backup left behind
    assert not list((data_folder / "backups").glob("*.partial"))


def test_daily_backup_only_once_per_day(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    day = datetime(2026, 3, 5, 8, 0, 0)
    _set_clock(monkeypatch, day)
    first = ensure_daily_backup(store.path)
    assert first is not None
    _set_clock(monkeypatch, day.replace(hour=17))
    assert ensure_daily_backup(store.path) is None
    _set_clock(monkeypatch, day + timedelta(days=1))
    assert ensure_daily_backup(store.path) is not None
    assert len(list_backups(store.path)) == 2


def test_prune_keeps_the_set_number_of_days_and_the_newest(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_folder: Path) -> None:
    start = datetime(2026, 1, 1, 9, 30, 0)
    for day in range(40):
        _set_clock(monkeypatch, start + timedelta(days=day))
        backup_now(store.path)
    unrelated = data_folder / "backups" / "我的笔记.sqlite"  # not named like a backup: never touched
    unrelated.write_bytes(b"x")
    removed = prune_backups(30)
    assert len(removed) == 10
    days = sorted(b.day for b in list_backups(store.path))
    assert days[0] == (start + timedelta(days=10)).date() and len(days) == 30
    assert unrelated.exists()
    # Two months later with the laptop off: the newest backup survives any age.
    _set_clock(monkeypatch, start + timedelta(days=120))
    prune_backups(30)
    assert [b.day for b in list_backups(store.path)] == [(start + timedelta(days=39)).date()]
    with pytest.raises(WqError):
        prune_backups(0)


def test_restore_brings_back_the_backup_and_keeps_current_file_aside(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _add_village(store, "新渠村")
    _set_clock(monkeypatch, datetime(2026, 4, 1, 10, 0, 0))
    made = backup_now(store.path)
    _add_village(store, "十二户村")  # a change made after the backup
    path = store.path
    store.close()

    _set_clock(monkeypatch, datetime(2026, 4, 2, 11, 0, 0))
    aside = restore_backup(made, path)

    assert _village_names(path) == ["新渠村"]
    assert aside is not None and aside.name == "test.before-restore-20260402-110000.sqlite"
    assert _village_names(aside) == ["十二户村", "新渠村"]  # nothing lost: the newer file is kept
    assert made.exists()  # the backup itself is untouched and can be used again
    with Store.open(path, "测试员") as s:  # the restored file is a working store
        _add_village(s, "东三工村")


def test_restore_refuses_a_damaged_backup_and_changes_nothing(store: Store, tmp_path: Path) -> None:
    _add_village(store, "新渠村")
    made = backup_now(store.path)
    path = store.path
    store.close()
    data = bytearray(made.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page
    made.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(WqError, match=r"损坏|无法打开|不是"):
        restore_backup(made, path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.before-restore-*"))
    assert not list(tmp_path.glob("*.restoring"))


def test_restore_refuses_while_store_is_open_elsewhere(store: Store) -> None:
    _add_village(store, "新渠村")
    made = backup_now(store.path)
    with pytest.raises(WqError, match="正被其他程序使用"):
        restore_backup(made, store.path)  # `store` is still open, like a running window
    assert [v["name"] for v in store.find("village")] == ["新渠村"]
    assert not list(store.path.parent.glob("*.before-restore-*"))


def test_restore_refuses_backup_of_another_store(store: Store, tmp_path: Path) -> None:
    other = Store.open(tmp_path / "other.sqlite", "测试员", create=True)
    _add_village(other, "别的村")
    other_backup = backup_now(other.path)
    other.close()
    path = store.path
    store.close()
    with pytest.raises(WqError, match="另一个数据库"):
        restore_backup(other_backup, path)
    assert restore_backup(other_backup, path, allow_other_store=True) is not None
    assert _village_names(path) == ["别的村"]


def test_restore_over_a_lost_store(store: Store) -> None:
    _add_village(store, "新渠村")
    made = backup_now(store.path)
    path = store.path
    store.close()
    for f in path.parent.glob(path.name + "*"):
        f.unlink()
    assert restore_backup(made, path) is None
    assert _village_names(path) == ["新渠村"]


def test_backup_is_logged_without_personal_data(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="wq_desktop"):
        made = backup_now(store.path)
    assert any(made.name in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------ command line

def test_cli_backup_and_list(store: Store, capsys: pytest.CaptureFixture[str], data_folder: Path) -> None:
    path = store.path
    store.close()
    assert cli_main(["backup", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "已备份到" in out and str(data_folder / "backups") in out
    assert cli_main(["backup", "--db", str(path), "--list"]) == 0
    assert "test_" in capsys.readouterr().out
    assert cli_main(["backup", "--db", str(path), "--keep-days", "0"]) == 2
    assert "至少为 1 天" in capsys.readouterr().err


def test_cli_restore_needs_confirmation(
        store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _add_village(store, "新渠村")
    made = backup_now(store.path)
    _add_village(store, "十二户村")
    path = store.path
    store.close()

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal (CI, a pipe, a script)
    assert cli_main(["restore", str(made), "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--yes" in err and "未做任何更改" in err
    assert _village_names(path) == ["十二户村", "新渠村"]

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert cli_main(["restore", str(made), "--db", str(path)]) == 1
    assert "已取消" in capsys.readouterr().out
    assert _village_names(path) == ["十二户村", "新渠村"]

    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert cli_main(["restore", str(made), "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "原数据库已保留为" in out
    assert _village_names(path) == ["新渠村"]


def test_cli_restore_yes_and_bad_backup(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    made = backup_now(store.path)
    path = store.path
    store.close()
    assert cli_main(["restore", str(tmp_path / "无此文件.sqlite"), "--db", str(path), "--yes"]) == 2
    assert "备份文件不存在" in capsys.readouterr().err
    assert cli_main(["restore", str(made), "--db", str(path), "--yes"]) == 0
    assert len(list(tmp_path.glob("test.before-restore-*.sqlite"))) == 1


def test_backup_survives_a_concurrent_writer(store: Store) -> None:
    """The online backup reads a consistent snapshot even with another connection writing."""
    _add_village(store, "新渠村")
    writer = sqlite3.connect(store.path)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('probe', 'uncommitted')")
    made = backup_now(store.path)  # must not see the uncommitted row, nor fail
    writer.execute("ROLLBACK")
    writer.close()
    conn = sqlite3.connect(made)
    assert conn.execute("SELECT value FROM meta WHERE key='probe'").fetchone() is None
    conn.close()
    assert _village_names(made) == ["新渠村"]


def test_many_backups_in_one_second_are_all_kept(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _set_clock(monkeypatch, datetime(2026, 5, 1, 12, 0, 0))
    made = [backup_now(store.path) for _ in range(3)]
    assert len(set(made)) == 3 and all(p.exists() for p in made)


def test_restore_that_cannot_write_puts_the_current_file_back(
        store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _add_village(store, "新渠村")
    made = backup_now(store.path)
    _add_village(store, "十二户村")
    path = store.path
    store.close()
    real_replace = backup.os.replace

    def replace(src: object, dst: object) -> None:
        if str(src).endswith(".restoring"):
            raise PermissionError(13, "拒绝访问")
        real_replace(src, dst)

    monkeypatch.setattr(backup.os, "replace", replace)
    with pytest.raises(WqError, match="恢复失败"):
        restore_backup(made, path)
    monkeypatch.setattr(backup.os, "replace", real_replace)
    assert _village_names(path) == ["十二户村", "新渠村"]
    assert not list(tmp_path.glob("*.before-restore-*")) and not list(tmp_path.glob("*.restoring"))


def _jpeg(path: Path, colour: tuple[int, int, int]) -> Path:
    from PIL import Image

    Image.new("RGB", (32, 24), colour).save(path, "JPEG")
    return path


def test_backup_keeps_photos_and_restore_puts_missing_ones_back(
        store: Store, tmp_path: Path, data_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wq_desktop.photos import attach_photo, file_sha256, photo_path

    village = _add_village(store, "新渠村")
    notice = store.create("notice", {"village": village, "year": 2026, "start_on": "2026-03-01",
                                     "end_on": "2026-03-07"})
    first = store.get("photo", attach_photo(store, "notice", notice, _jpeg(tmp_path / "a.jpg", (200, 0, 0))))
    second = store.get("photo", attach_photo(store, "notice", notice, _jpeg(tmp_path / "b.jpg", (0, 0, 200))))
    lost, kept = photo_path(store, first["sha256"]), photo_path(store, second["sha256"])
    _set_clock(monkeypatch, datetime(2026, 4, 1, 10, 0, 0))
    made = backup_now(store.path)
    shared = data_folder / "backups" / "test_photos"
    assert (shared / first["sha256"][:2] / first["sha256"]).is_file()

    # A second backup copies nothing again and leaves the shared copy as it was.
    before = (shared / first["sha256"][:2] / first["sha256"]).stat().st_mtime_ns
    _set_clock(monkeypatch, datetime(2026, 4, 1, 10, 5, 0))
    backup_now(store.path)
    assert (shared / first["sha256"][:2] / first["sha256"]).stat().st_mtime_ns == before

    path = store.path
    store.close()
    lost.unlink()  # a photo file lost from the data folder
    kept.write_bytes(b"local edit")  # an existing file is never overwritten by a restore
    restore_backup(made, path)

    assert lost.is_file() and file_sha256(lost) == first["sha256"]
    assert kept.read_bytes() == b"local edit"
    assert not list(lost.parent.glob("*.partial"))


def test_restore_without_photo_backup_still_restores_the_store(store: Store) -> None:
    _add_village(store, "新渠村")
    made = backup_now(store.path)
    path = store.path
    store.close()
    assert not (made.parent / "test_photos").exists()  # a store without photos copies none
    restore_backup(made, path)
    assert _village_names(path) == ["新渠村"]
