"""The in-process server every sync test module shares, on each store (`backend`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from inproc import InProcessServer


@pytest.fixture
def server(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[InProcessServer]:
    """A new server with the staff accounts a module's `STAFF` names (甲 and 乙 unless it says)."""
    (tmp_path / "server").mkdir()
    srv = InProcessServer(tmp_path / "server" / "server.sqlite", backend)
    for name in getattr(request.module, "STAFF", ("甲", "乙")):
        srv.add_staff(name)
    yield srv
    srv.close()
