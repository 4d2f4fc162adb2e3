"""HTTP endpoints (FastAPI). Every answer an error can give is one Chinese sentence in `detail`."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from wq_desktop.errors import NotFoundError, ValidationError, WqError
from wq_desktop.sync import protocol as p

from . import apply, auth, photos
from .db import ServerDB

# For the interruption tests: exit without answering right after the Nth sync request was
# handled, the way a crash between commit and reply looks to a client.
EXIT_AFTER_ENV = "WQ_SERVER_EXIT_AFTER_REQUESTS"


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _with_digest(response: Response) -> Response:
    """Every JSON answer carries its body's SHA-256: the client checks it before parsing."""
    response.headers[p.DIGEST_HEADER] = _sha256(response.body)
    return response


def current_user(request: Request, authorization: Annotated[str | None, Header()] = None) -> auth.User:
    token = (authorization or "").removeprefix("Bearer ").strip()
    user = auth.user_for_token(request.app.state.db, token) if token else None
    if user is None:
        raise HTTPException(401, "登录已过期或无效，请重新登录。")
    return user


User = Annotated[auth.User, Depends(current_user)]


def create_app(db_path: Path | str) -> FastAPI:
    db = ServerDB(Path(db_path))
    db.conn.execute("PRAGMA synchronous=FULL")  # an acknowledged push survives a power cut
    app = FastAPI(title="退地减水核查同步服务", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.db = db
    exit_after = int(os.environ.get(EXIT_AFTER_ENV, "0") or 0)
    counter = {"n": 0}

    @app.middleware("http")
    async def protocol_and_debug_exit(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if path not in ("/health", "/version"):
            sent = request.headers.get(p.PROTOCOL_HEADER)
            if sent != str(p.PROTOCOL_VERSION):
                return _with_digest(JSONResponse(status_code=426, content={"detail": (
                    f"客户端同步协议版本（{sent or '未知'}）与服务器（{p.PROTOCOL_VERSION}）不兼容，"
                    "请升级程序后再同步。")}))
        response = await call_next(request)
        if response.headers.get("content-type", "").startswith("application/json"):
            body = b"".join([chunk async for chunk in response.body_iterator])
            response = Response(body, status_code=response.status_code,
                                headers={**response.headers, p.DIGEST_HEADER: _sha256(body)})
        if exit_after and (path.startswith("/sync/") or path.startswith("/photos")):
            counter["n"] += 1
            if counter["n"] >= exit_after:
                os._exit(3)
        return response

    @app.exception_handler(WqError)
    async def wq_error(request: Request, err: WqError) -> JSONResponse:
        code = 403 if isinstance(err, apply.Forbidden) else 404 if isinstance(err, NotFoundError) \
            else 422
        return JSONResponse(status_code=code, content={"detail": str(err)})

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/version")
    def version() -> dict[str, Any]:
        return {"protocol": p.PROTOCOL_VERSION, "max_photo_bytes": p.MAX_PHOTO_BYTES,
                "photo_chunk": p.PHOTO_CHUNK}

    @app.post("/auth/login")
    def login(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        found = auth.login(db, str(body.get("user", "")), str(body.get("password", "")))
        if found is None:
            raise HTTPException(401, "用户名或密码错误。")
        token, expires, user = found
        return {"token": token, "expires_at": expires, "role": user.role, "township": user.township}

    @app.post("/sync/push")
    def push(user: User, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        changes = body.get("changes")
        device = body.get("device")
        if not isinstance(changes, list) or not isinstance(device, str) or not device:
            raise HTTPException(400, "上传内容格式不正确。")
        if len(changes) > 5 * p.PUSH_PAGE:
            raise HTTPException(413, f"一次最多上传 {5 * p.PUSH_PAGE} 条修改。")
        return {"results": apply.push(db, user, device, changes)}

    @app.get("/sync/pull")
    def pull(user: User, device: str, after: Annotated[int, Query(ge=0)] = 0,
             limit: Annotated[int, Query(ge=1, le=10 * p.PULL_PAGE)] = p.PULL_PAGE) -> dict[str, Any]:
        return apply.pull(db, user, device, after, limit)

    @app.get("/records/{kind}/{record}")
    def read_record(user: User, kind: str, record: str) -> dict[str, Any]:
        return apply.read_record(db, user, kind, record)

    @app.post("/photos/missing")
    def photos_missing(user: User, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        hashes = body.get("hashes")
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise HTTPException(400, "照片摘要列表格式不正确。")
        return {"missing": photos.missing(db, hashes)}

    @app.get("/photos/{sha256}/received")
    def photo_received(user: User, sha256: str) -> dict[str, Any]:
        return {"received": photos.received(db, sha256)}

    @app.put("/photos/{sha256}")
    async def photo_piece(user: User, sha256: str, request: Request,
                          offset: Annotated[int, Query(ge=0)],
                          total: Annotated[int, Query(ge=1)]) -> JSONResponse:
        if not user.can_write:
            raise HTTPException(403, "您的账号只能查看数据，不能上传照片。")
        if total > p.MAX_PHOTO_BYTES:
            raise HTTPException(413, photos.too_large_message(total))
        data = await request.body()
        if len(data) > p.PHOTO_CHUNK:
            raise HTTPException(413, "照片分块过大。")
        try:
            held, done = photos.put_piece(db, sha256, offset, total, data)
        except photos.UploadOffsetError as err:
            return JSONResponse(status_code=409, content={"detail": str(err), "received": err.received})
        except ValidationError as err:
            raise HTTPException(422, str(err)) from None
        return JSONResponse({"received": held, "done": done})

    @app.get("/photos/{sha256}")
    def photo_file(user: User, sha256: str) -> FileResponse:
        path = photos.blob_path(db, sha256)
        if not photos.readable_by(db, user, sha256):
            raise HTTPException(403, "该照片不属于您所在乡镇的记录。")
        if not path.is_file():
            raise HTTPException(404, "服务器上还没有该照片（拍摄设备尚未上传）。")
        return FileResponse(path, media_type="application/octet-stream")

    @app.post("/packages")
    async def package(user: User, request: Request) -> Response:
        from .package import import_package_bytes

        reply = import_package_bytes(db, await request.body(), user)
        return Response(reply, media_type="application/zip")

    return app
