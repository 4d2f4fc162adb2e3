"""A second Store opened and closed on a file this process already has open (the server's web
pages, a window's worker threads) must not cost the first one its later commits.

Reading the file's header to tell an encrypted store from a plain one opened and closed the file,
and closing any descriptor drops every POSIX lock the process holds on it, SQLite's too: the
next process to close the file (an admin command on the server) found no lock of ours, took it
as the last connection, deleted the WAL, and every later commit of the first landed in the
unlinked WAL, invisible to anyone opening the file afterwards: data lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wq_desktop import sqldriver
from wq_desktop.store import Store


def test_commits_after_a_second_store_closed_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    first = Store.open(path, "甲", create=True)
    try:
        first.create("township", {"code": "652301101", "name": "三工镇"})
        second = Store.open(path, "乙")
        assert second.count("township") == 1
        second.close()
        assert _count_elsewhere(path) == "1"  # another process opens and closes the file
        first.create("township", {"code": "652301102", "name": "榆树沟镇"})
        assert _count_elsewhere(path) == "2"
    finally:
        first.close()


def _count_elsewhere(path: Path) -> str:
    """The townships another process reads from the file as it is on disk (WAL included)."""
    return subprocess.run(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
         " print(c.execute('SELECT count(*) FROM township').fetchone()[0]); c.close()", str(path)],
        capture_output=True, text=True, timeout=60, check=True).stdout.strip()


def test_a_snapshot_reads_one_state_while_another_store_commits(tmp_path: Path) -> None:
    """A page of many queries (the web view's) sees the file as it was when it began, whatever
    another connection commits meanwhile; and a snapshot is for reading only."""
    path = tmp_path / "shared.sqlite"
    writer = Store.open(path, "甲", create=True)
    reader = Store.open(path, "乙")
    try:
        writer.create("township", {"code": "652301101", "name": "三工镇"})
        with reader.snapshot():
            assert reader.count("township") == 1
            writer.create("township", {"code": "652301102", "name": "榆树沟镇"})
            assert reader.count("township") == 1  # still the state it began with
            with reader.snapshot():  # a check that takes its own snapshot, inside a page's
                assert reader.count("township") == 1
            assert reader.count("township") == 1  # the inner block did not end the outer one
            with pytest.raises(sqldriver.OperationalError):
                reader.create("township", {"code": "652301103", "name": "大西渠镇"})
        assert reader.count("township") == 2
    finally:
        reader.close()
        writer.close()
