"""PostgreSQL for the server tests: the cluster `WQ_TEST_POSTGRES_URL` names (CI sets it), else a
throwaway cluster started once per test run in a temporary folder (initdb/pg_ctl from the
distribution's packages, as the `postgres` user when the tests run as root, on a unix socket
only). Every server under test gets a fresh database of its own (`new_database`).

pytest-postgresql does the same but refuses to run initdb as root, which is how CI runs.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

URL_ENV = "WQ_TEST_POSTGRES_URL"
_base: str | None = None
_names = itertools.count(1)


def _bin(name: str) -> str:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1:]
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (scripts/setup.sh installs it)")
    return found if isinstance(found, str) else found[0]


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def start_cluster(*, durable: bool = False) -> str:
    """A new cluster in a temporary folder; returns the URL of its `postgres` database. Tests
    skip fsync (a killed server process, never a killed machine, is what they test); a
    benchmark asks for a `durable` one, committed to disk as a real server's."""
    folder = Path(tempfile.mkdtemp(prefix="wqpg"))  # short: a socket path has ~100 bytes
    data, sock = folder / "data", folder / "sock"
    data.mkdir()
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        for p in (data, sock):
            shutil.chown(p, "postgres")
    subprocess.run(_as_postgres([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    options = f"-k {sock} -c listen_addresses='' -c max_connections=400"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                                 str(folder / "log"), "start"]), check=True, capture_output=True)

    def stop() -> None:
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql://postgres@/postgres?host={sock}"


def base_url() -> str:
    global _base
    if _base is None:
        _base = os.environ.get(URL_ENV) or start_cluster()
    return _base


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def new_database(prefix: str = "wq", cluster: str | None = None) -> str:
    """The URL of a new, empty database on the test cluster (or on `cluster`'s)."""
    import psycopg

    base = cluster or base_url()
    name = f"{prefix}_{os.getpid()}_{next(_names)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(base, name)


def new_server_db(folder: Path, backend: str, cluster: str | None = None) -> Path | str:
    """A new, empty server database for `backend` ("sqlite" or "postgresql"); the photos of a
    PostgreSQL one go in `folder`/photos."""
    if backend == "sqlite":
        return folder / "server.sqlite"
    url = new_database(cluster=cluster)
    from wq_server.pg_store import PgServerDB

    PgServerDB(url, pool_size=1, photos=folder / "photos").close()  # tables and photo folder
    return url


def store_content(db: object, township: str | None = None) -> dict[str, tuple]:
    """Every record an open server store holds (of one township's scope, if given), as
    `wq_desktop.sync.content.content_rows` gives them for a laptop: works on either store."""
    from wq_desktop.schema import KINDS
    from wq_desktop.store import to_wire

    rows: dict[str, tuple] = {}
    with db.reading() as session:
        for k in KINDS.values():
            if township is None:
                cur = session.execute(f'SELECT * FROM "{k.name}"')
            else:
                cur = session.execute(f'SELECT r.* FROM "{k.name}" r JOIN srv_scope s'
                                      " ON s.record = r.uuid WHERE s.township=?", (township,))
            names = [d[0] for d in cur.description]
            for row in cur.fetchall():
                rec = dict(zip(names, row, strict=True))
                fields = tuple((f.name, to_wire(f, rec[f.name])) for f in k.fields)
                rows[rec["uuid"]] = (k.name, bool(rec["deleted"]), fields)
    return rows
