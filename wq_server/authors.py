"""Who wrote a pushed change: the laptop account that is its author, and the server user who
pushed it.

Every sync (online push or USB package) carries the laptop's list of local accounts: names and
public facts, never password material. The server keeps them per township, with the server user
and device that registered each, and accepts a change only when its author (the change's `user`,
the account signed in on the laptop when the edit was made) is an account of the pushing user's
township; a change with any other author is refused with its reason (422), the others in the page
go on. Each accepted change is recorded with its author account and the server user who pushed it.

An account, once registered, stays (history keeps naming it); one disabled on the laptop stays
registered with its date, since its earlier edits may still be waiting on a stick. Accounts of a
plain (unencrypted) store come marked as not signed in: such a store has no sign-in, so its
author is only the name typed in 设置, and the record says so.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, StringConstraints
from pydantic import Field as Bounded

from wq_desktop.errors import ValidationError

from .auth import User

MAX_ACCOUNTS = 1000

class Account(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    created_at: Annotated[StrictStr, StringConstraints(max_length=40)] | None = None
    disabled_at: Annotated[StrictStr, StringConstraints(max_length=40)] | None = None
    signed_in: StrictBool = False


Accounts = Annotated[list[Account], Bounded(max_length=MAX_ACCOUNTS)]


def register(conn: Any, user: User, device: str, accounts: list[Account], at: str) -> None:
    """Record the laptop's accounts for the pushing user's township (inside the push's
    transaction). Only staff write; the first registration's user and device are kept."""
    if not user.can_write or not user.township:
        return
    for a in accounts:
        conn.hold(
            "INSERT INTO srv_author (township, account, signed_in, created_at, disabled_at,"
            " registered_by, device, registered_at) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT(township, account) DO UPDATE SET"  # the same SQL on both stores
            " signed_in=CASE WHEN excluded.signed_in > srv_author.signed_in THEN excluded.signed_in"
            " ELSE srv_author.signed_in END,"
            " disabled_at=coalesce(excluded.disabled_at, srv_author.disabled_at)",
            (user.township, a.name.strip(), int(a.signed_in), a.created_at, a.disabled_at,
             user.name, device, at))


def check(conn: Any, user: User, author: str | None) -> None:
    """Refuse (ValidationError, answered 422 with the reason) a change whose author is not an
    account of the user's township."""
    name = (author or "").strip()
    if not name:
        raise ValidationError("该修改没有记录由哪个账户录入，已拒绝。")
    if not conn.known_author(user.township, name):
        raise ValidationError(f"录入人“{name}”不是本乡镇在服务器上登记的本机账户，已拒绝"
                              "（每次同步会登记本机账户；请在本机用自己的账户登录后修改）。")


def record_push(conn: Any, change_id: str, user: User, device: str, author: str | None,
                at: str) -> None:
    conn.hold("INSERT INTO srv_change_author (change_id, township, account, pushed_by,"
                 " device, at) VALUES (?,?,?,?,?,?) ON CONFLICT (change_id) DO NOTHING",
                 (change_id, user.township or "", (author or "").strip(), user.name, device, at))


def pushed_by(conn: Any, change_id: str) -> tuple[str, str] | None:
    """(author account, server user who pushed it) of an accepted change."""
    row = conn.execute("SELECT account, pushed_by FROM srv_change_author WHERE change_id=?",
                       (change_id,)).fetchone()
    return (row[0], row[1]) if row else None


def township_accounts(conn: Any, township: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT account, signed_in, disabled_at, registered_by FROM srv_author"
                        " WHERE township=? ORDER BY account", (township,)).fetchall()
    return [{"account": r[0], "signed_in": bool(r[1]), "disabled_at": r[2], "registered_by": r[3]}
            for r in rows]
