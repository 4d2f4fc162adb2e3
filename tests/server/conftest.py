"""The server process a test module shares, on each store (`backend`), and a township of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serverproc import ServerProcess, Township, new_server_db, next_code


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, backend: str,
           request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """One server for the module's tests (they do not interfere: each has its own township); a
    module's `PG_WORKERS` says how many processes it runs on PostgreSQL (2 unless it says), its
    `SERVER_ENV` the server's environment."""
    db = new_server_db(tmp_path_factory.mktemp("server"), backend)
    workers = getattr(request.module, "PG_WORKERS", 2) if backend == "postgresql" else 1
    proc = ServerProcess(db, workers=workers, **getattr(request.module, "SERVER_ENV", {})).start()
    yield proc
    proc.stop()


@pytest.fixture
def town(server: ServerProcess, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Township]:
    """A new township of the module's server with `LAPTOPS` laptops (2 unless the module says)."""
    code = next_code()
    t = Township(server, tmp_path, code, f"镇{code[-2:]}", laptops=getattr(request.module, "LAPTOPS", 2))
    yield t
    t.close()
