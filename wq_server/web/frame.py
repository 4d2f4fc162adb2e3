"""What every page of the web view shares: templates, the records (`web_store`), scope, headers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from wq_desktop.queries import navigation
from wq_desktop.store import Store

from .. import auth
from . import read_model, session

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
WEB_USER = "市级网页"  # the reading Store's user name; it writes nothing
PREFIXES = ("/web/", "/static/")
ROLE_NAMES = {auth.OFFICE: "市级办公室", auth.STAFF: "乡镇"}


# Scripts and styles only from this server (no inline script can run if a value ever slipped
# through unescaped), and no other site may frame the pages.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # figures and names: not left in a shared computer's cache
}


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def is_web_path(path: str) -> bool:
    return path == "/" or path == "/web" or path.startswith(PREFIXES)


@contextmanager
def web_store(request: Request, user: auth.User | None = None) -> Iterator[Store]:
    """The records for this request, whatever the server's store (read_model.py): up to date
    when the page is asked for, one state throughout; the user's name marks what it prints."""
    with read_model.snapshot(read_model.read_model(request), user.name if user else WEB_USER) as store:
        yield store


def township_scope(user: auth.User) -> str | None:
    """The only township a user may see (None: every township, the office)."""
    return None if user.role == auth.OFFICE else user.township


def default_year(store: Store) -> int:
    return navigation.latest_year(store) or date.today().year


def error_page(request: Request, message: str, status: int) -> Response:
    """The page a browser is shown when a page cannot be made: the reason, in Chinese."""
    return secured(templates.TemplateResponse(request, "error.html", {"message": message},
                                              status_code=status))


def page(request: Request, name: str, user: auth.User, **context: Any) -> Response:
    token = session.session_token(request)
    return secured(templates.TemplateResponse(request, name, {
        "user": user, "role_name": ROLE_NAMES.get(user.role, user.role),
        "csrf": session.csrf_for(token), **context}))



YearParam = Annotated[int | None, Query(ge=2000, le=2100)]
