"""The web view's routes: sign-in, 进度, and the shared page frame.

Every page reads through a Store of its own (`frame.web_store`: the server's file, or on
PostgreSQL the office replica; the core's read functions take a Store), in FastAPI's thread
pool, so a slow city-wide count never holds the sync lock nor the event loop. Township staff
see only their own township; nothing here writes records except the 督办 pages, which go
through the server's own write path.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from wq_desktop.queries import navigation

from .. import auth
from . import background, checks_pages, map_pages, progress, session, summary_pages, supervision_pages
from .frame import (
    HERE,
    YearParam,
    default_year,
    error_page,
    is_web_path,
    page,
    secured,
    templates,
    township_scope,
    web_store,
)
from .read_model import read_model, snapshot
from .session import WebUser


def _login_page(request: Request, message: str = "", status: int = 200, name: str = "",
                target: str = "/web/progress") -> Response:
    csrf = session.new_login_csrf()
    response = templates.TemplateResponse(request, "login.html", {
        "csrf": csrf, "message": message, "name": name, "next": target}, status_code=status)
    session.set_cookie(response, request, session.LOGIN_CSRF_COOKIE, csrf, 30 * 60)
    return secured(response)


def _safe_target(target: str) -> str:
    """Only a page of this site (no "//evil.example" open redirect)."""
    return target if target.startswith("/web/") and not target.startswith("//") else "/web/progress"


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="web-static")

    @app.exception_handler(session.SignInNeeded)
    async def sign_in(request: Request, _err: session.SignInNeeded) -> Response:
        if request.method == "GET":
            target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            return RedirectResponse(f"/web/login?next={target}", status_code=303)
        return HTMLResponse("登录已过期，请重新登录。", status_code=401)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> Response:
        if not is_web_path(request.url.path):
            return await http_exception_handler(request, err)
        return error_page(request, err.detail, err.status_code)

    @app.get("/")
    def root() -> RedirectResponse:
        return RedirectResponse("/web/progress", status_code=303)

    @app.get("/web/login")
    def login_form(request: Request, next: str = "/web/progress") -> Response:
        return _login_page(request, target=_safe_target(next))

    @app.post("/web/login")
    async def login(request: Request) -> Response:
        form = await session.read_form(request)
        session.check_login_csrf(request, form)
        name, password = form.get("user", "").strip()[:100], form.get("password", "")[:128]
        target = _safe_target(form.get("next", ""))
        if not name or not password:
            return _login_page(request, "请填写用户名和密码。", 400, name, target)
        address = request.client.host if request.client else "?"
        try:
            token, _expires, user = await request.app.state.gate.login(name, password, address)
        except HTTPException as err:  # wrong password, locked, disabled, busy: said as the API says it
            return _login_page(request, str(err.detail), err.status_code, name, target)
        if user.role not in (auth.OFFICE, auth.STAFF):
            auth.revoke_token(request.app.state.db, token)
            return _login_page(request, session.ADMIN_REFUSED, 403, name, target)
        response = RedirectResponse(target, status_code=303)
        session.set_cookie(response, request, session.SESSION_COOKIE, token, auth.TOKEN_HOURS * 3600)
        response.delete_cookie(session.LOGIN_CSRF_COOKIE, path="/")
        return response

    @app.post("/web/logout")
    async def logout(request: Request, user: WebUser) -> Response:
        form = await session.read_form(request)
        session.check_csrf(request, form)
        auth.revoke_token(request.app.state.db, session.session_token(request))
        response = RedirectResponse("/web/login", status_code=303)
        response.delete_cookie(session.SESSION_COOKIE, path="/")
        return response

    @app.get("/web/progress")
    def progress_page(request: Request, user: WebUser, year: YearParam = None) -> Response:
        with web_store(request, user) as store:
            year = year or default_year(store)
            years = navigation.known_years(store)
        scope, model = township_scope(user), read_model(request)

        def work(job: background.Job) -> list[progress.Row]:
            job.step = "正在统计各乡镇、各村的工作进度…"
            with snapshot(model, user.name) as store:
                return progress.progress_rows(store, year, scope)

        job = background.job_for(request, ("progress", year, scope), work)
        if not job.done or job.error:
            return page(request, "computing.html", user, heading=f"{year} 年度退地减水工作进度",
                        job=job, active="progress")
        return page(request, "progress.html", user, year=year, years=years or [year],
                    rows=job.result, columns=progress.columns(year), today=date.today(),
                    active="progress", computed=job.started_at)

    summary_pages.install(app)
    supervision_pages.install(app)
    map_pages.install(app)
    checks_pages.install(app)
