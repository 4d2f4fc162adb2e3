"""Signing in to the web view: the API's own accounts, login gate and tokens, carried in a cookie.

The session cookie holds the same bearer token `/auth/login` hands a laptop (only its SHA-256 is
stored, it expires after `auth.TOKEN_HOURS`, and disabling the account or resetting its password
ends it at once). It is HttpOnly (no script reads it) and SameSite=Strict (no other site's page
sends it). Every POST carries a CSRF token besides: after sign-in an HMAC of the session token,
before it a random value that must match a cookie of its own (double submit), so a form on another
site can neither act as the user nor sign a browser in to an account of the attacker's choice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response

from .. import auth

SESSION_COOKIE = "wq_session"
LOGIN_CSRF_COOKIE = "wq_login_csrf"
ADMIN_REFUSED = "系统管理员账号只管理用户和乡镇，不能查看业务数据。请用市级办公室或乡镇账号登录。"
MAX_FORM_BYTES = 8_000  # a sign-in or a 督办 note; BodyLimit bounds everything else


class SignInNeeded(Exception):
    """No valid session: the page answers with the sign-in form."""


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), b"wq-web-csrf", hashlib.sha256).hexdigest()[:40]


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")


def session_token(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, "")


def web_user(request: Request) -> auth.User:
    """The signed-in user of this request (office or township staff), else SignInNeeded."""
    token = session_token(request)
    user = auth.user_for_token(request.app.state.db, token) if token else None
    if user is None:
        raise SignInNeeded()
    if user.role not in (auth.OFFICE, auth.STAFF):
        raise HTTPException(403, ADMIN_REFUSED)
    return user


WebUser = Annotated[auth.User, Depends(web_user)]


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form (the only kind these pages send), first value of each field."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "提交的内容过长。")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise HTTPException(400, "提交的内容不是有效的文字。") from None
    return {k: v[0] for k, v in fields.items()}


def check_csrf(request: Request, form: dict[str, str]) -> None:
    """Every POST of a signed-in page: the form's token must be the session's."""
    token = session_token(request)
    sent = form.get("csrf", "")
    if not token or not hmac.compare_digest(sent, csrf_for(token)):
        raise HTTPException(403, "页面已过期或请求来源不明，未处理。请刷新页面后重试。")


def check_login_csrf(request: Request, form: dict[str, str]) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(form.get("csrf", ""), cookie):
        raise HTTPException(403, "登录页面已过期，请刷新后重新登录。")
