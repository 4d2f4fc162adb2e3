"""HTTPS with the office's own CA, end to end: a self-signed CA and a server certificate for
127.0.0.1 made with `openssl`, the real server process serving TLS, and the core, the CLI and the
window syncing through it. Without the CA file the sync stops with a Chinese certificate message and
nothing changes locally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serverproc import PASSWORD, ROOT, ServerProcess, add_staff, add_township, new_server_db, query

from wq_desktop import settings as settings_mod
from wq_desktop.errors import ValidationError
from wq_desktop.settings import Settings
from wq_desktop.store import Store
from wq_desktop.sync import SyncError, sync_now

USER = "王芳"
CODE = "652301105"


def _openssl(*args: str, cwd: Path) -> None:
    out = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """(server certificate, server key, CA certificate): the CA signs a certificate for IP 127.0.0.1."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=WQ Test Office CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=folder)
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        encoding="ascii")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=folder)
    return folder / "server.pem", folder / "server.key", folder / "ca.pem"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory,
               backend: str) -> Iterator[tuple[ServerProcess, Path]]:
    """One HTTPS server for the module (each test syncs its own laptop store)."""
    folder = tmp_path_factory.mktemp("https")
    cert, key, ca = make_certificates(folder / "certs")
    db = new_server_db(folder, backend)
    add_township(db, CODE, "六工镇")
    add_staff(db, USER, CODE)
    server = ServerProcess(db, tls=(cert, key, ca)).start()
    yield server, ca
    server.stop()


def _laptop_with_a_village(path: Path, server: ServerProcess, ca: Path) -> Store:
    store = Store.open(path, USER, create=True)
    sync_now(store, server.url, USER, PASSWORD, verify=str(ca))
    township = store.find_one("township", "code=?", (CODE,))["uuid"]
    store.create("village", {"township": township, "code": f"{CODE}9{path.stem[-2:]}",
                             "name": f"东村{path.stem[-2:]}"})
    return store


def test_sync_with_the_ca_file_succeeds_over_https(tls_server, tmp_path: Path) -> None:
    server, ca = tls_server
    assert server.url.startswith("https://")
    with _laptop_with_a_village(tmp_path / "laptop01.sqlite", server, ca) as store:
        assert store.pending_changes() == 1
        report = sync_now(store, server.url, USER, PASSWORD, verify=str(ca))
        assert report.pushed == 1 and report.pending == 0 and store.pending_changes() == 0
    assert query(server.db, "SELECT count(*) FROM village WHERE name=?", ("东村01",)) == [(1,)]


def test_without_the_ca_file_the_sync_stops_with_a_certificate_message(tls_server, tmp_path) -> None:
    server, ca = tls_server
    with _laptop_with_a_village(tmp_path / "laptop02.sqlite", server, ca) as store:
        before = (store.pending_changes(), store.meta("sync_last_at"), store.meta("sync_cursor"),
                  store.conn.execute("SELECT count(*) FROM history").fetchone()[0])
        with pytest.raises(SyncError) as caught:
            sync_now(store, server.url, USER, PASSWORD)  # the system's trust only
        message = str(caught.value)
        assert message.startswith(f"无法验证服务器 {server.url} 的证书")
        assert "服务器证书" in message and "--ca-bundle" in message
        after = (store.pending_changes(), store.meta("sync_last_at"), store.meta("sync_cursor"),
                 store.conn.execute("SELECT count(*) FROM history").fetchone()[0])
        assert after == before and after[0] == 1  # the village still waits in the outbox
        assert store.conn.execute("SELECT kind, state FROM outbox").fetchall() == [("village", "pending")]
    assert query(server.db, "SELECT count(*) FROM village WHERE name=?", ("东村02",)) == [(0,)]


def _main(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "WQ_PASSWORD": PASSWORD})


def test_cli_sync_with_ca_bundle(tls_server, tmp_path: Path) -> None:
    server, ca = tls_server
    laptop = tmp_path / "laptop03.sqlite"
    _laptop_with_a_village(laptop, server, ca).close()
    refused = _main("sync", "--db", str(laptop), "--server", server.url, "--user", USER)
    assert refused.returncode == 2 and "无法验证服务器" in refused.stderr, refused.stderr
    out = _main("sync", "--db", str(laptop), "--server", server.url, "--user", USER,
                "--ca-bundle", str(ca))
    assert out.returncode == 0, out.stderr
    assert "上传修改 1 条" in out.stdout and "待上传修改：0 条" in out.stdout


def test_window_sync_uses_the_ca_file_from_settings(qtbot, tls_server, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ui.main_window import MainWindow

    shown: list[str] = []
    for name in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, name,
                            staticmethod(lambda _p, title, text, *a, **k: shown.append(f"{title}：{text}")))
    monkeypatch.setenv("WQ_DATA_DIR", str(tmp_path / "data"))
    server, ca = tls_server
    store = _laptop_with_a_village(tmp_path / "laptop04.sqlite", server, ca)
    window = MainWindow(store, Settings(user=USER, server_url=server.url), tmp_path / "settings.json")
    qtbot.addWidget(window)
    controller = window.sync_controller

    def sync() -> None:
        dialog = controller.start_sync()
        dialog.password_edit.setText(PASSWORD)
        dialog.buttons.accepted.emit()
        qtbot.waitUntil(lambda: controller.worker is None, timeout=60000)

    sync()  # no certificate set: refused in Chinese, the village still waits
    assert len(shown) == 1 and shown[0].startswith("同步未完成：无法验证服务器") and "服务器证书" in shown[0]
    assert store.pending_changes() == 1
    window.settings = settings_mod.save(Settings(user=USER, server_url=server.url, ca_bundle=str(ca)),
                                        tmp_path / "settings.json")
    sync()
    assert len(shown) == 1, shown
    assert store.pending_changes() == 0 and "上传修改 1 条" in controller.report_dialog.text()
    store.close()


def test_settings_accept_a_certificate_file_and_refuse_anything_else(tmp_path: Path) -> None:
    ca = tmp_path / "office-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", encoding="ascii")
    base = Settings(user="王芳")
    assert base.verify is True and base.validated().ca_bundle == ""
    good = Settings(user="王芳", ca_bundle=f"  {ca}  ").validated()
    assert good.ca_bundle == str(ca.resolve()) and good.verify == str(ca.resolve())
    missing = tmp_path / "gone.pem"
    text = tmp_path / "notes.txt"
    text.write_text("不是证书", encoding="utf-8")
    for wrong, words in ((missing, "不存在"), (tmp_path, "不存在或不是文件"), (text, "不是证书文件")):
        with pytest.raises(ValidationError) as caught:
            Settings(user="王芳", ca_bundle=str(wrong)).validated()
        assert caught.value.field == "ca_bundle" and words in caught.value.message


def test_older_settings_files_without_the_field_still_load(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"user": "王芳", "server_url": "https://wq.example.cn",
                                "default_year": 2025}, ensure_ascii=False), encoding="utf-8")
    loaded = settings_mod.load(path)
    assert (loaded.user, loaded.server_url, loaded.ca_bundle, loaded.verify) == (
        "王芳", "https://wq.example.cn", "", True)
    settings_mod.save(loaded, path)
    assert json.loads(path.read_text(encoding="utf-8"))["ca_bundle"] == ""
