"""A real server process on a free loopback port, and the admin commands, for the server tests.

Each server test runs on both stores (the `backend` fixture of tests/conftest.py): `db` is an
SQLite file or a PostgreSQL URL (`new_server_db`); on PostgreSQL the server runs `workers`
processes (2 unless a test asks for more)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pg_cluster
import requests

from wq_desktop.store import Store
from wq_desktop.sync import protocol as p
from wq_desktop.sync import sync_now
from wq_desktop.sync.content import content_rows

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-9"
PROTOCOL = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION)}  # the header every request carries


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BACKENDS = ("sqlite", "postgresql")
ServerDb = Path | str  # an SQLite file or a PostgreSQL URL


new_server_db = pg_cluster.new_server_db


def is_postgres(db: ServerDb) -> bool:
    return str(db).startswith("postgresql://")


def open_db(db: ServerDb):
    from wq_server.stores import open_server_db

    return open_server_db(db, pool_size=1)


class ServerProcess:
    """`tls=(certfile, keyfile, ca_file)` serves HTTPS; the health check trusts `ca_file`."""

    def __init__(self, db: ServerDb, *, tls: tuple[Path, Path, Path] | None = None,
                 wrapper: tuple[str, ...] = (), workers: int | None = None, **env: str) -> None:
        self.db = db
        self.workers = workers or (2 if is_postgres(db) else 1)
        self.env = env
        self.tls = tls
        self.wrapper = wrapper  # a command that execs the server (same pid), e.g. into a namespace
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, **env: str) -> ServerProcess:
        workers = ["--workers", str(self.workers)] if self.workers > 1 else []
        self.proc = subprocess.Popen(
            [*self.wrapper, sys.executable, "-m", "wq_server", "--db", str(self.db),
             "--host", "127.0.0.1", "--port", str(self.port), *workers, *self._tls_args()],
            cwd=ROOT, env={**os.environ, **self.env, **env}, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            return self._wait_until_up()
        except BaseException:
            self.stop()  # a server that did not come up is not left running (with its workers)
            raise

    def _wait_until_up(self) -> ServerProcess:
        deadline = time.monotonic() + 180  # a bound, not a measure: four workers on a loaded machine
        self.worker_pids: set[int] = set()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode())
            try:  # a new connection each time: any worker may take it
                answer = requests.get(self.url + "/health", timeout=1,
                                      verify=str(self.tls[2]) if self.tls else True)
            except (requests.ConnectionError, requests.Timeout):  # not listening, or slow to answer
                time.sleep(0.1)
                continue
            if answer.ok:
                self.worker_pids.add(answer.json()["worker"])
            if len(self.worker_pids) == self.workers:  # every worker up and answering
                return self
        raise RuntimeError(f"server did not come up: {len(self.worker_pids)} of {self.workers} workers")

    def _tls_args(self) -> list[str]:
        if self.tls is None:
            return []
        return ["--ssl-certfile", str(self.tls[0]), "--ssl-keyfile", str(self.tls[1])]

    def stop(self) -> None:
        """kill -9 of the server and all its worker processes (its own process group)."""
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            self.proc.wait(10)
            self.proc.stderr.close()

    def peak_rss_mib(self) -> float:
        """The largest peak resident memory so far (VmHWM) of the server's processes, the
        `--workers` ones included (each has login limits of its own), in MiB."""
        assert self.proc is not None
        return max(_peak_rss_mib(pid) for pid in {self.proc.pid, *self.worker_pids})

    def login(self, user: str, password: str = PASSWORD) -> requests.Response:
        return requests.post(self.url + "/auth/login", json={"user": user, "password": password},
                             headers=dict(PROTOCOL), timeout=120)

    def headers(self, user: str, password: str = PASSWORD) -> dict[str, str]:
        """Request headers of a signed-in user."""
        answer = self.login(user, password)
        assert answer.status_code == 200, answer.text
        return {**PROTOCOL, "Authorization": f"Bearer {answer.json()['token']}"}

    def package_key(self) -> bytes:
        """The server's USB package public key, as a laptop learns it at its first online sync."""
        answer = requests.get(self.url + "/package-key", headers=dict(PROTOCOL), timeout=60,
                              verify=str(self.tls[2]) if self.tls else True)
        assert answer.status_code == 200, answer.text
        return bytes.fromhex(answer.json()["public_key"])

    def exited(self) -> bool:
        return self.proc is not None and self.proc.wait(10) is not None


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def admin(db: ServerDb, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "wq_server", *args, "--db", str(db)], cwd=ROOT,
                         env={**os.environ, "WQ_PASSWORD": PASSWORD}, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def query(db: ServerDb, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of one statement (portable SQL, `?` placeholders) on either store."""
    store = open_db(db)
    try:
        with store.reading() as session:
            return [tuple(r) for r in session.execute(sql, params).fetchall()]
    finally:
        store.close()


def add_township(db: ServerDb, code: str, name: str) -> str:
    """What `addtownship` does, in this process (a second Python's start-up per township and
    account was most of a server test's set-up; test_admin runs the commands themselves)."""
    from wq_server.apply import create_township

    store = open_db(db)
    try:
        return create_township(store, code, name)
    finally:
        store.close()


def add_staff(db: ServerDb, name: str, code: str) -> None:
    """What `adduser --role staff` does, in this process."""
    from wq_server import auth

    store = open_db(db)
    try:
        auth.add_user(store, name, PASSWORD, auth.STAFF, code)
    finally:
        store.close()


def server_content(db: ServerDb, township: str) -> dict[str, tuple]:
    """The server's records of one township, as content_rows gives them for a client store."""
    store = open_db(db)
    try:
        return pg_cluster.store_content(store, township)
    finally:
        store.close()


class HealthWatch:
    """Asks `/health` over and over in a thread while the block runs; `latencies_ms` are the
    answers' round trips. Bounded: at most `limit` questions."""

    def __init__(self, url: str, limit: int = 20_000) -> None:
        import threading

        self.url = url
        self.limit = limit
        self.latencies_ms: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set() and len(self.latencies_ms) < self.limit:
            start = time.perf_counter()
            try:
                ok = session.get(self.url + "/health", timeout=30).ok
            except requests.RequestException:
                ok = False
            if ok:
                self.latencies_ms.append((time.perf_counter() - start) * 1000)
            else:
                self.failures += 1
            self._stop.wait(0.01)
        session.close()

    @classmethod
    def idle(cls, url: str, n: int = 50) -> HealthWatch:
        """`n` answers with nothing else going on: how quickly this machine answers right now."""
        watch = cls(url, limit=n)
        watch._run()
        return watch

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


_codes = iter(range(10, 100))


def next_code() -> str:
    """A township code no other test in this run uses (townships share one server per module)."""
    return f"6523011{next(_codes):02d}"


GOOD_ID = "11010519491231002X"


class Township:
    """A township on the server with a staff account and a laptop store for each of `laptops`."""

    def __init__(self, server: ServerProcess, tmp: Path, code: str, name: str, laptops: int = 2) -> None:
        self.server, self.code = server, code
        self.uuid = add_township(server.db, code, name)
        self.users = tuple(f"{name}{'甲乙丙丁'[i]}" for i in range(laptops))
        for user in self.users:
            add_staff(server.db, user, code)
        self.stores = [Store.open(tmp / f"{code}-{i}.sqlite", user, create=True)
                       for i, user in enumerate(self.users)]
        for i in range(laptops):
            self.sync(i)  # a new laptop starts by pulling its township

    def sync(self, i: int, **kw: Any) -> Any:
        return sync_now(self.stores[i], self.server.url, self.users[i], PASSWORD, **kw)

    def household(self, i: int = 0) -> tuple[str, str]:
        store = self.stores[i]
        village = store.create("village", {"township": self.uuid, "code": self.code + "901",
                                           "name": "测试村"})
        op = store.create("operator", {"village": village, "name": "张三", "kind": "农户",
                                       "id_code": GOOD_ID, "address": "一组"})
        return village, op

    def close(self) -> None:
        for store in self.stores:
            store.close()

    def assert_converged(self) -> None:
        server = server_content(self.server.db, self.uuid)
        for store in self.stores:
            assert content_rows(store) == server
            assert store.pending_changes() == 0
