"""The server under many clients, against a real server process on loopback, as ratios to a bare
baseline doing the same work in the same run:

- logins under 50 and 200 parallel clients, against the same number of bare Argon2 verifications
  in this process (two at a time, as the server's gate allows); the server's peak memory and how
  many attempts it shed (503) beside;
- push then pull of N changes each by 20 and 50 parallel clients (their own township each),
  against applying the same changes with `apply.push` in this process, without HTTP; changes/s and
  the p50/p99 request latency beside;
- the stores side by side: 50 and 200 clients each syncing as a laptop does (a page pushed, then
  a pull, over and over) against the server on SQLite (one process) and on PostgreSQL with 1 and
  with 4 worker processes, in the same run; the ratio is each PostgreSQL run's time to SQLite's
  for the same work, with changes/s, p99 and errors beside. PostgreSQL is a durable throwaway
  cluster started for the run (fsync on), or the one WQ_BENCH_POSTGRES_URL names.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from benchmarks.harness import Ratio
from wq_desktop.rules import identity
from wq_desktop.store import new_uuid
from wq_desktop.sync import protocol as p
from wq_server import auth
from wq_server.apply import create_township, push
from wq_server.authors import Account
from wq_server.db import ServerDB
from wq_server.web.map_pages import WARM_UP_ENV

PASSWORD = "swift-river-72"
CHANGES_PER_CLIENT = 200
PROTOCOL = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION)}  # the header every request carries


def _timed(fn, *args, **kw) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - start


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _logins(tmp: Path, clients: int) -> Ratio:
    from argon2 import PasswordHasher
    from serverproc import ServerProcess

    db_path = tmp / f"login-{clients}.sqlite"
    db = ServerDB(db_path)
    create_township(db, "652301105", "六工镇")
    auth.add_user(db, "bench", PASSWORD, auth.STAFF, "652301105")
    db.close()
    server = ServerProcess(db_path).start()
    try:
        def one(_: int) -> int:
            return requests.post(server.url + "/auth/login", json={"user": "bench", "password": PASSWORD},
                                 headers=dict(PROTOCOL), timeout=600).status_code

        with ThreadPoolExecutor(clients) as pool:
            codes, product = _timed(lambda: list(pool.map(one, range(clients))))
        peak = server.peak_rss_mib()
    finally:
        server.stop()
    ok = codes.count(200)
    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    with ThreadPoolExecutor(2) as pool:  # the same verifications, two at a time, no HTTP, no DB
        _, baseline = _timed(lambda: list(pool.map(lambda _: hasher.verify(stored, PASSWORD), range(ok))))
    r = Ratio(f"{clients} parallel logins ({ok} checked, {codes.count(503)} shed with 503)",
              product, baseline)
    print(f"{r.line()}; {ok / product:.1f} logins/s, server peak RSS {peak:.0f} MiB", flush=True)
    return r


AUTHOR = "录入员"  # the laptop account every benchmark change names (registered with each push)
ACCOUNTS = [{"name": AUTHOR, "signed_in": True}]


def _households(township: str, n: int, seed: int) -> list[dict]:
    village = new_uuid()
    code = f"6523{seed:05d}"
    changes = [{"change_id": new_uuid(), "kind": "village", "record": village, "op": "create",
                "base_rev": 0, "user": AUTHOR,
                "fields": {"township": township, "code": code + "901", "name": "村"}}]
    for i in range(n - 1):
        first17 = f"652399{1950 + i // 1000}0101{i % 1000:03d}"
        changes.append({"change_id": new_uuid(), "kind": "operator", "record": new_uuid(),
                        "op": "create", "base_rev": 0, "user": AUTHOR,
                        "fields": {"village": village, "name": f"户{i}", "kind": "农户",
                                   "id_code": first17 + identity.id_check_char(first17)}})
    return changes


def _seed(db_path: Path, clients: int) -> list[tuple[str, str]]:
    """A township and a staff user per client; returns (user, township uuid)."""
    db = ServerDB(db_path)
    out = []
    for i in range(clients):
        code = f"6523{i:05d}"
        township = create_township(db, code, f"镇{i}")
        auth.add_user(db, f"bench{i}", PASSWORD, auth.STAFF, code)
        out.append((f"bench{i}", township))
    db.close()
    return out


def _push_pull(tmp: Path, clients: int) -> Ratio:
    from serverproc import ServerProcess

    db_path = tmp / f"sync-{clients}.sqlite"
    users = _seed(db_path, clients)
    pages = [_households(town, CHANGES_PER_CLIENT, i) for i, (_, town) in enumerate(users)]
    server = ServerProcess(db_path).start()
    latencies: list[float] = []
    try:
        tokens = []
        for user, _ in users:  # signed in first: this measures sync, not Argon2
            tokens.append(requests.post(server.url + "/auth/login", json={"user": user, "password": PASSWORD},
                                        headers=dict(PROTOCOL), timeout=600).json()["token"])

        def client(i: int) -> int:
            headers = {**PROTOCOL, "Authorization": f"Bearer {tokens[i]}"}
            session = requests.Session()
            for start in range(0, len(pages[i]), 100):  # pages of 100, as a laptop with edits sends
                answer, took = _timed(session.post, server.url + "/sync/push", headers=headers,
                                      json={"device": f"d{i}", "changes": pages[i][start:start + 100],
                                            "accounts": ACCOUNTS},
                                      timeout=600)
                latencies.append(took)
                assert all(r["status"] == p.APPLIED for r in answer.json()["results"])
            answer, took = _timed(session.get, server.url + "/sync/pull", headers=headers,
                                  params={"device": f"other{i}", "after": 0}, timeout=600)
            latencies.append(took)
            return len(answer.json()["changes"])

        with ThreadPoolExecutor(clients) as pool:
            pulled, product = _timed(lambda: list(pool.map(client, range(clients))))
        assert all(n >= CHANGES_PER_CLIENT for n in pulled)
    finally:
        server.stop()

    bare = tmp / f"bare-{clients}.sqlite"
    bare_users = _seed(bare, clients)
    bare_pages = [_households(town, CHANGES_PER_CLIENT, i) for i, (_, town) in enumerate(bare_users)]
    db = ServerDB(bare)
    db.conn.execute("PRAGMA synchronous=FULL")  # as the server runs

    def bare_run() -> None:
        from wq_server.apply import pull

        for i, (user, town) in enumerate(bare_users):
            who = auth.User(user, auth.STAFF, town)
            for start in range(0, len(bare_pages[i]), 100):
                push(db, who, f"d{i}", bare_pages[i][start:start + 100],
                     [Account.model_validate(a) for a in ACCOUNTS])
            pull(db, who, f"other{i}", 0, p.PULL_PAGE)

    _, baseline = _timed(bare_run)
    db.close()
    total = clients * CHANGES_PER_CLIENT
    r = Ratio(f"{clients} clients push+pull {CHANGES_PER_CLIENT} changes each", product, baseline)
    print(f"{r.line()}; {total / product:.0f} changes/s pushed (and pulled back), request p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms, p99 {_pct(latencies, 0.99) * 1000:.0f} ms",
          flush=True)
    return r


STORE_CHANGES = 100  # per client in the stores comparison, pushed in pages of STORE_PAGE
STORE_PAGE = 25
STORE_CLIENTS = os.environ.get("WQ_BENCH_STORE_CLIENTS", "50,200")  # the client counts to run
# The stores to run, as store:workers (a profile of one alone, say); the ratios need all three.
STORE_RUNS = os.environ.get("WQ_BENCH_STORES", "sqlite:1,postgresql:1,postgresql:4")
# A folder: each server process of the stores runs is profiled (benchmarks/profile_site) from
# when it has settled to the end of the run, into <folder>/<store>-<workers>-<clients>/<pid>.prof.
PROFILE_ENV = "WQ_BENCH_PROFILE"


def _process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants, living or reaped."""
    ppid: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        pid = int(stat.parent.name)
        ppid[pid] = int(fields[1])
        times[pid] = sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in ppid.items() if parent == pid]
    return total


def _postmaster_pid(url: str) -> int | None:
    """The PostgreSQL cluster's postmaster, when it runs on this machine."""
    import psycopg

    with psycopg.connect(url) as conn:
        folder = conn.execute("SHOW data_directory").fetchone()[0]
    pid_file = Path(folder) / "postmaster.pid"
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError):
        return None


def _settled(pid: int, bound_s: float = 120) -> None:
    """Wait until the server's processes are idle (every worker started), so their start is not
    counted as CPU spent on the changes: less than 20 ms of CPU in half a second."""
    deadline, before = time.monotonic() + bound_s, _process_tree_cpu(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _process_tree_cpu(pid)
        if now - before < 0.02:
            return
        before = now


class CpuMeter:
    """CPU seconds spent during a block by the server's processes, the PostgreSQL cluster's and
    this process (the clients): on a shared machine wall time also counts waiting for a core."""

    def __init__(self, server_pid: int, cluster_pid: int | None) -> None:
        self.pids = {"server": server_pid, "cluster": cluster_pid}
        self.spent: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        out = {name: _process_tree_cpu(pid) if pid else 0.0 for name, pid in self.pids.items()}
        out["clients"] = time.process_time()
        return out

    def __enter__(self) -> CpuMeter:
        self._start = self._now()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._now()
        self.spent = {name: end[name] - self._start[name] for name in end}


def _profile_env(backend: str, workers: int, clients: int) -> dict[str, str]:
    """The server's environment for a profiled run (PROFILE_ENV set), else nothing."""
    folder = os.environ.get(PROFILE_ENV)
    if not folder:
        return {}
    out = Path(folder) / f"{backend}-{workers}-{clients}"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.prof"):
        old.unlink()
    site = Path(__file__).resolve().parent / "profile_site"
    return {"WQ_SERVER_PROFILE": str(out),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


def _signal_workers(server: Any, sig: int | None) -> None:
    if sig is not None:
        for pid in server.worker_pids:
            os.kill(pid, sig)


def _wait_for_profiles(folder: Path, server: Any, bound_s: float = 120) -> None:
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline and not all(
            (folder / f"{pid}.prof").exists() for pid in server.worker_pids):
        time.sleep(0.2)


def _store_run(tmp: Path, clients: int, backend: str, workers: int,
               cluster: str | None) -> tuple[float, float, int, int, dict[str, float]]:
    """(seconds, p99 seconds, changes applied, errors, CPU seconds by side) of `clients`
    laptops syncing at once."""
    from pg_cluster import new_server_db
    from serverproc import ServerProcess

    from wq_server.stores import open_server_db

    folder = Path(tempfile.mkdtemp(dir=tmp, prefix=f"{backend}-{workers}-{clients}-"))
    target = new_server_db(folder, backend, cluster)
    db = open_server_db(target, pool_size=2)
    users = []
    for i in range(clients):
        code = f"6523{i:05d}"
        town = create_township(db, code, f"镇{i}")
        auth.add_user(db, f"bench{i}", PASSWORD, auth.STAFF, code)
        users.append((f"bench{i}", town))
    db.close()
    pages = [_households(town, STORE_CHANGES, i) for i, (_, town) in enumerate(users)]
    profile = _profile_env(backend, workers, clients)
    server = ServerProcess(target, workers=workers, WQ_LOGIN_PARALLEL="2",
                           **{WARM_UP_ENV: "0"}, **profile).start()  # sync only: no map built meanwhile
    latencies: list[float] = []
    errors = 0
    try:
        tokens = [requests.post(server.url + "/auth/login", json={"user": u, "password": PASSWORD},
                                headers=dict(PROTOCOL), timeout=600).json()["token"] for u, _ in users]
        _settled(server.proc.pid)
        _signal_workers(server, signal.SIGUSR2 if profile else None)  # profiles count from here

        def client(i: int) -> int:
            nonlocal errors
            headers = {**PROTOCOL, "Authorization": f"Bearer {tokens[i]}"}
            session, cursor, applied = requests.Session(), 0, 0
            for start in range(0, len(pages[i]), STORE_PAGE):
                answer, took = _timed(session.post, server.url + "/sync/push", headers=headers,
                                      json={"device": f"d{i}", "accounts": ACCOUNTS,
                                            "changes": pages[i][start:start + STORE_PAGE]},
                                      timeout=600)
                latencies.append(took)
                if answer.status_code != 200:
                    errors += 1
                    continue
                applied += sum(r["status"] == p.APPLIED for r in answer.json()["results"])
                answer, took = _timed(session.get, server.url + "/sync/pull", headers=headers,
                                      params={"device": f"other{i}", "after": cursor}, timeout=600)
                latencies.append(took)
                if answer.status_code != 200:
                    errors += 1
                    continue
                cursor = answer.json()["cursor"]
            session.close()
            return applied

        postmaster = _postmaster_pid(str(target)) if backend == "postgresql" else None
        with CpuMeter(server.proc.pid, postmaster) as cpu, ThreadPoolExecutor(clients) as pool:
            applied, took = _timed(lambda: list(pool.map(client, range(clients))))
        if profile:
            _signal_workers(server, signal.SIGUSR1)
            _wait_for_profiles(Path(profile["WQ_SERVER_PROFILE"]), server)
    finally:
        server.stop()
    return took, _pct(latencies, 0.99), sum(applied), errors, cpu.spent


def _stores(tmp: Path) -> list[Ratio]:
    from pg_cluster import start_cluster

    cluster = os.environ.get("WQ_BENCH_POSTGRES_URL") or start_cluster(durable=True)
    out = []
    for clients in (int(n) for n in STORE_CLIENTS.split(",")):
        runs, per_change = {}, {}
        for backend, workers in ((b, int(w)) for b, w in (run.split(":") for run in STORE_RUNS.split(","))):
            took, p99, applied, errors, cpu = _store_run(tmp, clients, backend, workers, cluster)
            runs[(backend, workers)] = took
            per_change[(backend, workers)] = {side: spent / max(applied, 1) for side, spent in cpu.items()}
            ms = {side: f"{spent * 1000:.2f}" for side, spent in per_change[(backend, workers)].items()}
            name = "SQLite, 1 process" if backend == "sqlite" else f"PostgreSQL, {workers} workers"
            print(f"{clients} clients syncing, {name}: {applied / took:.0f} changes/s "
                  f"({applied} of {clients * STORE_CHANGES} applied), request p99 {p99 * 1000:.0f} ms,"
                  f" {errors} errors, {took:.1f} s; CPU ms per change: server {ms['server']},"
                  f" cluster {ms['cluster']}, clients {ms['clients']}", flush=True)
        if len(runs) < 3:
            continue
        for workers in (1, 4):
            r = Ratio(f"{clients} clients syncing, PostgreSQL {workers} workers vs SQLite",
                      runs[("postgresql", workers)], runs[("sqlite", 1)])
            print(r.line(), flush=True)
            out.append(r)
        # What the server's CPU per change allows where every process has a core of its own: one
        # SQLite process (one writer, one interpreter) against 4 PostgreSQL workers, the cluster
        # on cores of its own.
        sqlite_server = per_change[("sqlite", 1)]["server"]
        pg = per_change[("postgresql", 4)]
        print(f"{clients} clients, with a core per process (from CPU per change): SQLite "
              f"{1 / sqlite_server:.0f} changes/s, PostgreSQL 4 workers {4 / pg['server']:.0f} changes/s"
              f" ({4 * sqlite_server / pg['server']:.2f}×), needing {4 * pg['cluster'] / pg['server']:.1f}"
              " cores for the cluster", flush=True)
    return out


def main() -> list[Ratio]:
    tmp = Path(tempfile.mkdtemp(prefix="wq-bench-server-"))
    only = os.environ.get("WQ_BENCH_SERVER", "logins,sync,stores").split(",")
    results = []
    if "logins" in only:
        results += [_logins(tmp, 50), _logins(tmp, 200)]
    if "sync" in only:
        results += [_push_pull(tmp, 20), _push_pull(tmp, 50)]
    if "stores" in only:
        results += _stores(tmp)
    return results


if __name__ == "__main__":
    main()
