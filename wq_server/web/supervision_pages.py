"""督办 in the web view: the office issues one about a township, village, household or parcel
and follows it (待办理 / 已逾期 / 已回复 / 已整改); township leaders see their own, read-only.

Issuing writes on the server through `apply.write_as_server`, the path an admin's new township
takes: validated, in the history, scoped to the township and in the pull feed, so the next sync
brings it to that township's laptops (and to no other). The answer comes back by the same sync.
"""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from wq_desktop import supervision
from wq_desktop.errors import ValidationError
from wq_desktop.model import SUPERVISION_TARGETS
from wq_desktop.store import new_uuid

from .. import apply, auth
from . import session
from .frame import page, township_scope, web_store
from .session import WebUser


def _office_only(user: auth.User) -> None:
    if user.role != auth.OFFICE:
        raise HTTPException(403, "只有市级办公室账号可以下发督办；乡镇账号只能查看，并在本机程序中回复。")


def _target(store, kind: str, uuid: str, user: auth.User) -> tuple[str, str]:
    """The record's title and township, if this user may see it; else 404/403 in Chinese."""
    town = supervision.township_of(store, kind, uuid) if kind in SUPERVISION_TARGETS else None
    if town is None:
        raise HTTPException(404, "找不到要督办的记录，可能已被删除。")
    if not user.can_read(town):
        raise HTTPException(403, "该记录属于其他乡镇，您无权查看。")
    return supervision.target_title(store, kind, uuid), town


def issue(db, user: auth.User, target_kind: str, target: str, note: str, due_on: str) -> str:
    """Write a new 督办 on the server (one transaction); returns its UUID."""
    try:
        due = date.fromisoformat(due_on)
    except ValueError:
        raise ValidationError("请填写办理期限（年-月-日）。", "due_on") from None
    if due < date.today():
        raise ValidationError("办理期限不能早于今天。", "due_on")
    record = new_uuid()
    with db.reading() as store:
        town = supervision.issue_values(store, target_kind, target, note, due, user.name)["township"]
    with db.writing(town) as store:  # under the township's write lock, checked again inside it
        values = supervision.issue_values(store, target_kind, target, note, due, user.name)
        apply.write_as_server(store, "supervision", record, "create", values, user=user.name,
                              town=values["township"])
    return record


def install(app: FastAPI) -> None:
    @app.get("/web/supervision")
    def list_page(request: Request, user: WebUser, state: str = "", issued: str = "") -> Response:
        with web_store(request, user) as store:
            rows = supervision.supervision_rows(store, township_scope(user))
        counts = {s: sum(r.state == s for r in rows) for s in supervision.STATE_NAMES}
        shown = [r for r in rows if not state or r.state == state]
        return page(request, "supervision.html", user, rows=shown, counts=counts, state=state,
                    states=supervision.STATE_NAMES, issued=issued, active="supervision")

    @app.get("/web/supervision/new")
    def new_form(request: Request, user: WebUser, kind: str, target: str) -> Response:
        _office_only(user)
        return _form(request, user, kind, target)

    @app.post("/web/supervision")
    async def create(request: Request, user: WebUser) -> Response:
        form = await session.read_form(request)
        session.check_csrf(request, form)
        _office_only(user)
        return await run_in_threadpool(_create, request, user, form)


def _create(request: Request, user: auth.User, form: dict[str, str]) -> Response:
    kind, target = form.get("kind", ""), form.get("target", "")
    note, due = form.get("note", ""), form.get("due_on", "")
    try:
        issue(request.app.state.db, user, kind, target, note, due)
    except ValidationError as err:  # said on the form, with what was typed kept
        return _form(request, user, kind, target, str(err), note, due)
    return RedirectResponse(f"/web/supervision?issued={target}", status_code=303)


def _form(request: Request, user: auth.User, kind: str, target: str, message: str = "",
          note: str = "", due: str = "") -> Response:
    with web_store(request, user) as store:
        title, _ = _target(store, kind, target, user)
    return page(request, "supervision_new.html", user, kind=kind, kind_name=SUPERVISION_TARGETS[kind],
                target=target, title=title, message=message, note=note, due=due,
                active="supervision")
