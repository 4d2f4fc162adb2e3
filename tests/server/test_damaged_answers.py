"""A cut or garbled answer from the server (through a loopback proxy that damages it) is a Chinese
SyncError and writes nothing on the laptop; the next clean sync brings the right values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from damaging_proxy import DamagingProxy
from serverproc import PASSWORD, ServerProcess, Township

from wq_desktop.store import Store
from wq_desktop.sync import SyncError, client, sync_now
from wq_desktop.sync.content import content_rows

NEW_PHONE = "13987654321"


@pytest.fixture
def proxy(server: ServerProcess) -> Iterator[DamagingProxy]:
    with DamagingProxy(server.url) as p:
        yield p


def _clean(proxy: DamagingProxy, town: Township, i: int) -> object:
    """A sync through the proxy with nothing damaged (the laptop's server address is the proxy's)."""
    return sync_now(town.stores[i], proxy.url, town.users[i], PASSWORD)


def _everything(store: Store) -> tuple:
    """What a damaged answer must leave untouched: records, history, outbox, cursor and bases."""
    q = store.conn.execute
    return (content_rows(store), q("SELECT count(*) FROM history").fetchone(),
            q("SELECT change_id, state, base_rev FROM outbox ORDER BY seq").fetchall(),
            q("SELECT * FROM sync_base ORDER BY record").fetchall(), store.meta("sync_cursor"))


def _sync_through(proxy: DamagingProxy, town: Township, i: int) -> str:
    before = _everything(town.stores[i])
    with pytest.raises(SyncError) as err:
        sync_now(town.stores[i], proxy.url, town.users[i], PASSWORD)
    assert _everything(town.stores[i]) == before, "a damaged answer changed the laptop"
    return str(err.value)


def _household_with_new_phone(town: Township, proxy: DamagingProxy) -> str:
    _, op = town.household(0)
    town.sync(0)
    _clean(proxy, town, 1)
    town.stores[0].update("operator", op, {"phone": NEW_PHONE})
    town.sync(0)
    return op


@pytest.mark.parametrize("how", ["cut", "flip"])
def test_a_damaged_pull_page_writes_nothing(town: Township, proxy: DamagingProxy, how: str) -> None:
    op = _household_with_new_phone(town, proxy)
    proxy.damage("/sync/pull", how, NEW_PHONE.encode())
    message = _sync_through(proxy, town, 1)
    assert proxy.damaged == ["/sync/pull"]
    assert "本机" in message and "Error" not in message
    _clean(proxy, town, 1)  # a clean line: the right value arrives
    assert town.stores[1].get("operator", op)["phone"] == NEW_PHONE


@pytest.mark.parametrize("how", ["cut", "flip"])
def test_a_damaged_push_answer_writes_nothing_and_the_change_goes_again(
        town: Township, proxy: DamagingProxy, how: str) -> None:
    _, op = town.household(0)
    town.sync(0)
    b = town.stores[1]
    _clean(proxy, town, 1)
    b.update("operator", op, {"phone": NEW_PHONE})
    proxy.damage("/sync/push", how, NEW_PHONE.encode())
    message = _sync_through(proxy, town, 1)
    assert "本机" in message
    assert b.pending_changes() == 1  # still waiting, not lost, not marked sent
    report = _clean(proxy, town, 1)  # the server answers the repeat from its receipt: applied once
    assert report.pushed == 1 and report.pending == 0
    town.sync(0)
    assert town.stores[0].get("operator", op)["phone"] == NEW_PHONE
    assert b.get("operator", op)["phone"] == NEW_PHONE


def test_a_damaged_version_or_login_answer_is_a_sync_error(town: Township, proxy: DamagingProxy) -> None:
    _clean(proxy, town, 0)
    proxy.damage("/version", "flip", b"protocol")
    assert "本机没有写入" in _sync_through(proxy, town, 0)
    client._tokens.clear()  # log in again, through the damage
    proxy.damage("/auth/login", "cut")
    assert "本机" in _sync_through(proxy, town, 0)
