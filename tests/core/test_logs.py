"""The program's log: rotating file in the data folder, ID and phone numbers never written."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from wq_desktop import logs
from wq_desktop.logs import (
    LOG_FILE_NAME,
    audit_log_files,
    current_log_file,
    find_sensitive,
    mask_sensitive,
    setup_logging,
)

ID18 = "652399199001011234"  # demo area code, not a real person
ID18_X = "65239919900101123X"
ID15 = "652399900101123"
MOBILE = "13899912345"
LANDLINE = "0994-2345678"


@pytest.fixture
def own_log(tmp_path: Path) -> Iterator[Path]:
    """Point the log at a folder of this test, then back at the test run's log."""
    before_file, before_level = current_log_file(), logs.current_level()
    path = setup_logging(logging.INFO, tmp_path / "logs")
    yield path
    if before_file is not None:
        setup_logging(before_level or logging.INFO, before_file.parent, max_bytes=0)


@pytest.mark.parametrize("secret", [
    ID18, ID18_X, ID18_X.lower(), ID15, MOBILE, "+86 138 9991 2345", "8613899912345", "138-9991-2345",
    LANDLINE, "09942345678", "(0994)2345678", "（0994）23456789", "010-12345678", "0994 234 5678",
])
def test_mask_sensitive_removes_ids_and_phones(secret: str) -> None:
    text = f"经营者身份证号或电话{secret}，已保存"
    masked = mask_sensitive(text)
    assert secret not in masked
    assert not find_sensitive(masked)
    assert masked.startswith("经营者身份证号或电话[") and masked.endswith("已隐去]，已保存")


@pytest.mark.parametrize("harmless", [
    "地块 010-2 退减后四周 5 块地仍在灌溉",  # parcel codes
    "村代码 652301105901，乡镇代码 652301105",  # 12- and 9-digit codes
    "2026-11-29 08:59:45 年度 2026，400 个地块，156 户",
    "统一社会信用代码长度 18，面积 12345.67 亩",
    "uuid 3f2a9c1e-0b7d-4e8f-9a6b-1c2d3e4f5a6b",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
])
def test_mask_sensitive_leaves_ordinary_numbers(harmless: str) -> None:
    assert mask_sensitive(harmless) == harmless
    assert find_sensitive(harmless) == []


def test_log_file_never_receives_ids_or_phones(own_log: Path) -> None:
    log = logging.getLogger("wq_desktop.test_logs")
    log.info("operator saved: id %s phone %s", ID18, MOBILE)
    log.warning("landline %(tel)s for %(name)s", {"tel": LANDLINE, "name": "张三"})
    log.info(f"f-string too: {ID15}")
    try:
        raise ValueError(f"身份证号 {ID18_X} 校验位错误")
    except ValueError:
        log.exception("import failed")
    logging.getLogger("some.library").warning("third-party message with %s", MOBILE)
    for handler in logging.getLogger().handlers:
        handler.flush()

    text = own_log.read_text(encoding="utf-8")
    for secret in (ID18, ID18_X, ID15, MOBILE, LANDLINE):
        assert secret not in text
    assert "operator saved: id [身份证号已隐去] phone [手机号已隐去]" in text
    assert "ValueError: 身份证号 [身份证号已隐去] 校验位错误" in text  # traceback kept, number gone
    assert "third-party message with [手机号已隐去]" in text
    assert audit_log_files(own_log.parent) == (len(text.splitlines()), [])


def test_setup_logging_is_idempotent_and_in_the_data_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_log: Path) -> None:
    assert own_log.name == LOG_FILE_NAME
    assert setup_logging(logging.DEBUG) == own_log  # set up already: same file, new level
    assert logging.getLogger("wq_desktop").level == logging.DEBUG
    ours = [h for h in logging.getLogger().handlers if isinstance(h, logs._WqFileHandler)]
    assert len(ours) == 1
    assert any(isinstance(f, logs.MaskingFilter) for f in ours[0].filters)

    monkeypatch.setenv("WQ_DATA_DIR", str(tmp_path / "data"))
    moved = setup_logging(logging.INFO, logs.logs_dir())
    assert moved == (tmp_path / "data" / "logs" / LOG_FILE_NAME).resolve()
    assert len([h for h in logging.getLogger().handlers if isinstance(h, logs._WqFileHandler)]) == 1


def test_log_rotates(own_log: Path) -> None:
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logs._WqFileHandler))
    handler.maxBytes = 2000
    log = logging.getLogger("wq_desktop.test_logs")
    for i in range(200):
        log.info("line %d of a long session", i)
    files = sorted(p.name for p in own_log.parent.iterdir())
    assert LOG_FILE_NAME in files and f"{LOG_FILE_NAME}.1" in files
    assert len(files) <= 1 + logs.BACKUP_COUNT


def test_audit_finds_a_leak(tmp_path: Path) -> None:
    (tmp_path / LOG_FILE_NAME).write_text("ok\n", encoding="utf-8")
    (tmp_path / f"{LOG_FILE_NAME}.1").write_text(f"x\nleak {ID18} and {MOBILE}\n", encoding="utf-8")
    lines, problems = audit_log_files(tmp_path)
    assert lines == 3
    assert problems == [f"{LOG_FILE_NAME}.1:2: 身份证号 652…34", f"{LOG_FILE_NAME}.1:2: 手机号 138…45"]
    assert ID18 not in "".join(problems)


def test_backup_command_logs_to_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                own_log: Path) -> None:
    from wq_desktop.cli import main as cli_main
    from wq_desktop.store import Store

    monkeypatch.setenv("WQ_DATA_DIR", str(tmp_path / "data"))
    Store.open(tmp_path / "w.sqlite", "测试员", create=True).close()
    assert cli_main(["backup", "--db", str(tmp_path / "w.sqlite")]) == 0
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "backup made: w_" in own_log.read_text(encoding="utf-8")
