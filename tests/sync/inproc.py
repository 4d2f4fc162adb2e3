"""An in-process server (FastAPI TestClient) and helpers shared by the sync tests."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from wq_desktop.rules import identity
from wq_desktop.store import Store
from wq_server import apply, auth
from wq_server.app import create_app

SERVER = "http://testserver"
PASSWORD = "correct-horse-9"
TOWNSHIP_CODE = "652301105"


class TestClientSession:
    """requests-style calls over FastAPI's TestClient (no sockets)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def request(self, method: str, url: str, *, params: Any = None, json: Any = None,
                data: bytes | None = None, headers: dict | None = None, timeout: Any = None) -> Any:
        return self.client.request(method, url, params=params, json=json, content=data,
                                   headers=headers)


class InProcessServer:
    """`path`: an SQLite file, or a folder's `server.sqlite` on the PostgreSQL `backend`."""

    def __init__(self, path: Path, backend: str = "sqlite") -> None:
        from pg_cluster import new_server_db

        self.target = new_server_db(path.parent, backend) if backend != "sqlite" else path  # --db
        self.app = create_app(self.target)
        self.db = self.app.state.db
        self.client = TestClient(self.app)
        self.session = TestClientSession(self.client)
        self.township = apply.create_township(self.db, TOWNSHIP_CODE, "六工镇")

    def add_staff(self, name: str, code: str = TOWNSHIP_CODE) -> None:
        auth.add_user(self.db, name, PASSWORD, auth.STAFF, code)

    def close(self) -> None:
        self.client.close()
        self.db.close()

    def sync(self, store: Store, user: str, **kw: Any):
        from wq_desktop.sync import sync_now

        return sync_now(store, SERVER, user, PASSWORD, session=self.session, **kw)


def seed_village(store: Store, township: str) -> str:
    return store.create("village", {"township": township, "code": "652301105901", "name": "测试村"})


_serial = itertools.count(2)


def household(store: Store, village: str, name: str = "张三") -> str:
    """A household with an ID number of its own: one person is one household in a township."""
    first17 = f"11010519491231{next(_serial):03d}"
    return store.create("operator", {"village": village, "name": name, "kind": "农户",
                                     "id_code": first17 + identity.id_check_char(first17),
                                     "phone": "13912345678"})


def open_sync_window(qtbot: Any, store: Store, server: InProcessServer, tmp_path: Path,
                     url: str = SERVER, **settings: Any) -> tuple[Any, Any]:
    """A main window on `store` (its user signed in) whose 同步 talks to the in-process server."""
    from ui.main_window import MainWindow
    from wq_desktop.settings import Settings

    window = MainWindow(store, Settings(user=store.user, server_url=url, **settings),
                        tmp_path / "settings.json")
    qtbot.addWidget(window)
    controller = window.sync_controller
    controller.session = server.session
    window.show()
    return window, controller
