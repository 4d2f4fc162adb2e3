"""Encryption at rest, local accounts, the 恢复码 and the security log (issue #17)."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSWORD
from wq_desktop import accounts, audit, backup, checks, crypto, encrypt_store, keyfile, sqldriver
from wq_desktop.errors import EncryptedStoreError, SignInError, ValidationError, WqError
from wq_desktop.store import Store

ID_RE = re.compile(rb"652399\d{11}[\dX]")


def _demo_secrets(store: Store) -> list[bytes]:
    """Full ID numbers, phones and names of the demo's people, as UTF-8 bytes."""
    found: set[str] = set()
    for op in store.find("operator"):
        found.update(v for v in (op["id_code"], op["phone"], op["name"]) if v)
    for c in store.find("contact"):
        found.update(v for v in (c["phone"], c["name"]) if v)
    return [s.encode("utf-8") for s in found if len(s) >= 2]


def _copy(src: Path, dst: Path) -> Path:
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    a.backup(b)
    a.close()
    b.close()
    return dst


@pytest.fixture
def encrypted_demo(demo_template: Path, tmp_path: Path, data_folder: Path):
    path = _copy(demo_template, tmp_path / "demo.sqlite")
    with Store.open(path, "测试员") as plain:
        secrets = _demo_secrets(plain)
    assert len(secrets) > 300 and any(ID_RE.search(s) for s in secrets)
    assert any(s in path.read_bytes() for s in secrets)  # the plain file: readable with grep
    result = encrypt_store.encrypt(path, "测试员", TEST_PASSWORD)
    yield result, secrets
    result.store.close()
    keyfile.forget(path)


@pytest.fixture
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("WQ_DATA_DIR", str(folder))
    return folder


def _raw(path: Path) -> bytes:
    data = path.read_bytes()
    for extra in ("-wal", "-shm"):
        side = path.with_name(path.name + extra)
        if side.exists():
            data += side.read_bytes()
    return data


def test_no_id_phone_or_name_of_the_demo_in_the_encrypted_store_or_its_backup(encrypted_demo) -> None:
    result, secrets = encrypted_demo
    store = result.store
    assert store.encrypted and store.is_demo and store.count("operator") == 156
    made = backup.backup_now(store.path, key=store.key)
    for path in (store.path, made, keyfile.path_for(store.path), keyfile.path_for(made)):
        raw = _raw(path)
        assert not ID_RE.search(raw), path
        leaked = [s for s in secrets if s in raw]
        assert leaked == [], (path, leaked[:3])
    # No plain copy left behind by the encryption (the copy aside is removed once it worked).
    assert not list(store.path.parent.glob("demo.before-encrypt-*"))
    # The backup is encrypted with the same key: only a sign-in opens it.
    with pytest.raises(EncryptedStoreError):
        backup.verify_database(made)
    backup.verify_database(made, store.key)
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(made).execute("SELECT count(*) FROM operator").fetchone()


def test_encrypted_store_refuses_to_open_without_a_sign_in(encrypted_store: Store) -> None:
    path = encrypted_store.path
    encrypted_store.close()
    keyfile.forget(path)
    with pytest.raises(EncryptedStoreError, match="需要登录"):
        Store.open(path, "测试员")
    with pytest.raises(EncryptedStoreError):
        backup.backup_now(path)


def test_wrong_password_opens_nothing_and_changes_nothing(encrypted_store: Store) -> None:
    path = encrypted_store.path
    encrypted_store.create("township", {"code": "652301105", "name": "六工镇"})
    encrypted_store.close()
    keyfile.forget(path)
    before = _raw(path)
    for wrong in ("Ceshi2026pas", "ceshi2026pass", ""):
        with pytest.raises(SignInError, match="不正确"):
            accounts.sign_in(path, "测试员", wrong)
    with pytest.raises(SignInError, match="不正确"):  # an unknown account: the same answer
        accounts.sign_in(path, "不存在的人", TEST_PASSWORD)
    assert _raw(path) == before
    with pytest.raises(EncryptedStoreError):  # and nothing was unlocked for later opens
        Store.open(path, "测试员")
    # The failures are written to the security log at the next successful sign-in.
    with accounts.sign_in(path, "测试员", TEST_PASSWORD) as store:
        events = [(e.event, e.account) for e in audit.entries(store.conn, newest_first=False)]
    assert events[-5:] == [("sign_in_failed", "测试员")] * 3 + [("sign_in_failed", "不存在的人"),
                                                                 ("sign_in", "测试员")]


def test_repeated_failures_lock_the_account_even_for_the_right_password(
        encrypted_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    path = encrypted_store.path
    encrypted_store.close()
    keyfile.forget(path)
    clock = accounts.now()
    monkeypatch.setattr(accounts, "now", lambda: clock)
    for _ in range(keyfile.MAX_FAILURES - 1):
        with pytest.raises(SignInError, match="不正确"):
            accounts.sign_in(path, "测试员", "Wrong2026pass")
    with pytest.raises(SignInError, match="已锁定"):
        accounts.sign_in(path, "测试员", "Wrong2026pass")
    with pytest.raises(SignInError, match="已锁定"):
        accounts.sign_in(path, "测试员", TEST_PASSWORD)
    clock += timedelta(minutes=keyfile.LOCK_MINUTES + 1)
    accounts.sign_in(path, "测试员", TEST_PASSWORD).close()


def test_recovery_code_opens_the_store_and_sets_a_new_password(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    store, code = accounts.create_encrypted_store(path, "张三", "Zhang2026pass")
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z]{4}", code)
    store.close()
    keyfile.forget(path)
    assert code.encode() not in keyfile.path_for(path).read_bytes()
    with pytest.raises(SignInError, match="恢复码不正确"):
        accounts.recover(path, "0000-0000-0000-0000-0000-0000", "张三", "Brand2026new!")
    typed = code.lower().replace("-", " ").replace("0", "o")  # as read off the paper
    with accounts.recover(path, typed, "张三", "Brand2026new!") as again:
        assert again.user == "张三"
        assert [e.event for e in audit.entries(again.conn)][:3] == ["sign_in", "password_reset",
                                                                     "recovery_failed"]
    keyfile.forget(path)
    with pytest.raises(SignInError):
        accounts.sign_in(path, "张三", "Zhang2026pass")  # the old password no longer opens it
    accounts.sign_in(path, "张三", "Brand2026new!").close()


def _store_of_two_accounts(path: Path) -> Path:
    """An encrypted store of 张三 and 李四, closed, its key forgotten: the next open signs in."""
    store, _ = accounts.create_encrypted_store(path, "张三", "Zhang2026pass")
    accounts.add_account(store, "李四", "Lisi2026pass")
    store.close()
    keyfile.forget(path)
    return path


def test_history_entry_after_sign_in_names_the_account(tmp_path: Path) -> None:
    path = _store_of_two_accounts(tmp_path / "h.sqlite")
    with accounts.sign_in(path, "李四", "Lisi2026pass") as store:
        town = store.create("township", {"code": "652301105", "name": "六工镇"})
        store.update("township", town, {"name": "六工镇人民政府"})
        assert [e.user for e in store.history(town)] == ["李四", "李四"]
        assert store.get("township", town)["updated_by"] == "李四"
        assert store.conn.execute("SELECT user FROM outbox").fetchall() == [("李四",), ("李四",)]


def test_accounts_are_disabled_never_deleted(encrypted_store: Store) -> None:
    accounts.add_account(encrypted_store, "李四", "Lisi2026pass")
    with pytest.raises(ValidationError, match="已存在"):
        accounts.add_account(encrypted_store, "李四", "Lisi2026pass2")
    with pytest.raises(ValidationError, match="当前登录"):
        accounts.disable_account(encrypted_store, "测试员")
    accounts.disable_account(encrypted_store, "李四")
    with pytest.raises(sqldriver.IntegrityError, match="不能删除"):
        encrypted_store.conn.execute("DELETE FROM account")
    names = {a.name: a.enabled for a in accounts.list_accounts(encrypted_store)}
    assert names == {"测试员": True, "李四": False}
    with pytest.raises(SignInError):
        accounts.sign_in(encrypted_store.path, "李四", "Lisi2026pass")
    assert keyfile.load(encrypted_store.path).envelope(keyfile.ACCOUNT, "李四") is None


@pytest.mark.parametrize("password, reason", [
    ("Short1", "至少"), ("abcdefghijk", "字母和数字"), ("测试员2026abcd", "账户名"),
    ("password2026", "简单"), ("aaaaaaaa11", "简单"), ("abcdefgh12", "简单"),
])
def test_weak_passwords_are_refused_with_a_reason(tmp_path: Path, password: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        accounts.create_encrypted_store(tmp_path / "w.sqlite", "测试员", password)
    assert list(tmp_path.iterdir()) == []


def test_change_password_needs_the_old_one(encrypted_store: Store) -> None:
    with pytest.raises(SignInError, match="原密码"):
        accounts.change_password(encrypted_store, "Nope2026pass", "Fresh2026pass")
    accounts.change_password(encrypted_store, TEST_PASSWORD, "Fresh2026pass")
    assert audit.entries(encrypted_store.conn)[0].event == audit.PASSWORD_CHANGED
    path = encrypted_store.path
    encrypted_store.close()
    keyfile.forget(path)
    accounts.sign_in(path, "测试员", "Fresh2026pass").close()


def test_envelope_moved_to_another_account_does_not_open(tmp_path: Path) -> None:
    path = _store_of_two_accounts(tmp_path / "m.sqlite")
    keys = keyfile.load(path)
    for env in keys.envelopes:  # 李四 relabels his own envelope as 张三's
        if env.account == "张三":
            env.account = "旧张三"
        elif env.account == "李四":
            env.account = "张三"
    keyfile.save(path, keys)
    with pytest.raises(SignInError):
        accounts.sign_in(path, "张三", "Lisi2026pass")


def test_security_log_detects_a_rewritten_entry(encrypted_store: Store) -> None:
    accounts.add_account(encrypted_store, "李四", "Lisi2026pass")
    accounts.lock(encrypted_store)
    accounts.unlock(encrypted_store, "测试员", TEST_PASSWORD)
    assert checks.check_security_log(encrypted_store) == []
    with pytest.raises(sqldriver.IntegrityError, match="只能追加"):
        encrypted_store.conn.execute("UPDATE security_log SET account='别人'")
    # Someone with the key and a SQLite tool drops the guard and rewrites who added the account.
    conn = encrypted_store.conn
    conn.execute("DROP TRIGGER security_log_no_update")
    conn.execute("UPDATE security_log SET account='李四' WHERE event='account_added' AND seq=1")
    findings = checks.check_security_log(encrypted_store)
    assert [f.message for f in findings] == ["安全日志第 1 条的内容被改写（哈希不符）"]
    assert "security_log" in checks.CHECKS


def test_plain_store_encrypts_on_request_and_keeps_its_records(store: Store) -> None:
    town = store.create("township", {"code": "652301105", "name": "六工镇"})
    path = store.path
    store.close()
    result = encrypt_store.encrypt(path, "张三", "Zhang2026pass")
    with result.store as enc:
        assert enc.get("township", town)["name"] == "六工镇"
        assert [e.event for e in audit.entries(enc.conn)] == ["store_encrypted", "account_added"]
        assert checks.check_history(enc) == []
    assert keyfile.is_encrypted_store(path) and b"\xe5\x85\xad\xe5\xb7\xa5" not in _raw(path)
    with pytest.raises(WqError, match="已经加密"):
        encrypt_store.encrypt(path, "张三", "Zhang2026pass")


def test_failed_encryption_leaves_the_plain_store_as_it_was(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.create("township", {"code": "652301105", "name": "六工镇"})
    path = store.path
    store.close()
    before = path.read_bytes()

    def broken(*_args):
        raise WqError("加密后的副本校验未通过，原数据库未做任何改动。")

    monkeypatch.setattr(encrypt_store, "_check_copy", broken)
    with pytest.raises(WqError, match="校验未通过"):
        encrypt_store.encrypt(path, "张三", "Zhang2026pass")
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["test.sqlite"]


def test_restore_of_an_encrypted_backup_needs_its_key(encrypted_store: Store, data_folder: Path) -> None:
    town = encrypted_store.create("township", {"code": "652301105", "name": "六工镇"})
    made = backup.backup_now(encrypted_store.path, key=encrypted_store.key)
    encrypted_store.update("township", town, {"name": "改过的名字"})
    path, key = encrypted_store.path, encrypted_store.key
    encrypted_store.close()
    keyfile.forget(path)
    with pytest.raises(EncryptedStoreError):
        backup.restore_backup(made, path)
    with pytest.raises(SignInError):
        accounts.key_from_keyfile(made, "测试员", "Wrong2026pass")
    key_again = accounts.key_from_keyfile(made, "测试员", TEST_PASSWORD)
    assert key_again == key
    aside = backup.restore_backup(made, path, key=key_again)
    assert keyfile.is_encrypted_store(aside) and keyfile.is_encrypted_store(path)
    with accounts.sign_in(path, "测试员", TEST_PASSWORD) as restored:
        assert restored.get("township", town)["name"] == "六工镇"


def test_plain_backup_never_replaces_an_encrypted_store(store: Store, encrypted_store: Store,
                                                        data_folder: Path) -> None:
    plain = backup.backup_now(store.path)
    with pytest.raises(WqError, match="未加密"):
        backup.restore_backup(plain, encrypted_store.path, key=encrypted_store.key,
                              allow_other_store=True)


def test_product_argon2_parameters_are_not_weakened() -> None:
    # RFC 9106 second recommendation; tests run cheaper only through crypto.use_test_kdf().
    assert crypto.PRODUCT_KDF == crypto.KdfParams(time_cost=3, memory_kib=65536, parallelism=4)
    assert crypto.current_kdf() != crypto.PRODUCT_KDF  # this run made that explicit call
    wrapped = crypto.Wrapped(b"s" * 16, b"n" * 12, b"", crypto.PRODUCT_KDF)
    assert keyfile.Envelope("account", "x", wrapped, "t").to_json()["kdf"] == {
        "alg": "argon2id", "t": 3, "m": 65536, "p": 4}


def test_exports_of_full_ids_are_in_the_security_log(demo_store: Store) -> None:
    from wq_desktop.printing.agreement import agreement_households
    from wq_desktop.printing.contact_list import contact_list_data
    from wq_desktop.queries.navigation import latest_year

    year = latest_year(demo_store)
    contact_list_data(demo_store, year)  # the public copy, masked: not an export of personal data
    assert [e.event for e in audit.entries(demo_store.conn)] == []
    contact_list_data(demo_store, year, masked=False)
    households = agreement_households(demo_store, year, village="652301105901")
    entries = audit.entries(demo_store.conn)
    assert [(e.event, e.detail["kind"], e.account) for e in entries] == [
        ("export_unmasked", "协议书", "测试员"), ("export_unmasked", "包联清单", "测试员")]
    assert entries[0].detail["rows"] == len(households) > 0


def test_sync_safety_copy_of_an_encrypted_store_is_encrypted(encrypted_store: Store) -> None:
    from wq_desktop import migrations

    encrypted_store.create("township", {"code": "652301105", "name": "六工镇"})
    copy = migrations.backup_copy(encrypted_store.conn, encrypted_store.path, "sync")
    assert keyfile.is_encrypted_store(copy) and "六工镇".encode() not in copy.read_bytes()
    with Store.open(copy, "测试员", key=encrypted_store.key) as opened:
        assert opened.find("township")[0]["name"] == "六工镇"
