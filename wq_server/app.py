"""HTTP endpoints (FastAPI). Every answer an error can give is one Chinese sentence in `detail`.

Nothing slow runs on the event loop: endpoints that touch the database or files are plain `def`
(FastAPI runs them in its thread pool) or hand their work to `run_in_threadpool`; the few `async`
ones only await. So `/health` and every other request are answered while a package imports.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from wq_desktop.errors import NotFoundError, WqError
from wq_desktop.sync import protocol as p

from . import apply, auth, bodies, limits, logins, photos, server_key, web
from .db import ServerDB
from .stores import SERVING_POOL, open_server_db

log = logging.getLogger(__name__)

# For the interruption tests: exit without answering right after the Nth sync request was
# handled, the way a crash between commit and reply looks to a client.
EXIT_AFTER_ENV = "WQ_SERVER_EXIT_AFTER_REQUESTS"
# Set by `--workers N` when the supervisor leads its own process group: the exit above then takes
# the whole server down (every worker), as a crash of the machine would.
KILL_GROUP_ENV = "WQ_SERVER_KILL_GROUP"


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


DB_ENV = "WQ_SERVER_DB"  # what `--workers` hands each worker process (see app_from_env)


def app_from_env() -> FastAPI:
    """The app of one worker process among several (uvicorn's factory, `--workers N`)."""
    return create_app(open_server_db(os.environ[DB_ENV], pool_size=SERVING_POOL))


def create_app(db_path: Path | str | ServerDB) -> FastAPI:
    """The server on a database file or PostgreSQL URL (or an open store)."""
    db = db_path if hasattr(db_path, "writing") else open_server_db(db_path)
    db.durable()  # an acknowledged push survives a power cut
    app = FastAPI(title="退地减水核查同步服务", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.db = db
    package_key = server_key.public_info(db.key_base)  # made at the first start
    # Added first, so it sits inside the protocol middleware below and its 413 is raised straight
    # into FastAPI's body reading (through BaseHTTPMiddleware it would come out as a 400).
    app.add_middleware(limits.BodyLimit)
    exit_after = int(os.environ.get(EXIT_AFTER_ENV, "0") or 0)
    counter = {"n": 0}

    @app.middleware("http")
    async def protocol_and_debug_exit(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if path not in ("/health", "/version") and not web.is_web_path(path):
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
                if os.environ.get(KILL_GROUP_ENV):
                    import signal

                    os.killpg(os.getpgid(0), signal.SIGKILL)
                os._exit(3)
        return response

    @app.exception_handler(WqError)
    async def wq_error(request: Request, err: WqError) -> JSONResponse:
        code = 403 if isinstance(err, (apply.Forbidden, photos.NotReadable)) \
            else 404 if isinstance(err, NotFoundError) \
            else 413 if isinstance(err, photos.QuotaExceeded) else 422
        if web.is_web_path(request.url.path):  # a browser's page: the reason on a page, not JSON
            return web.error_page(request, str(err), code)
        return JSONResponse(status_code=code, content={"detail": str(err)})

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return JSONResponse(status_code=422, content={
            "detail": f"请求内容格式不正确（{where or '整体'}），未处理。请升级程序或联系管理员。"})

    @app.exception_handler(OSError)
    async def os_error(request: Request, err: OSError) -> JSONResponse:
        return _server_trouble(err, db.disk_folder)

    # Either store's driver exceptions (SQLCipher's, psycopg's): a full disk answers 507.
    async def db_error(request: Request, err: Exception) -> JSONResponse:
        return _server_trouble(err, db.disk_folder)

    for error_class in db.errors:
        app.add_exception_handler(error_class, db_error)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        # Answered on the event loop: it shows whether the loop is free; `worker` tells which
        # of the `--workers` processes answered.
        return {"ok": True, "worker": os.getpid()}

    @app.get("/version")
    async def version() -> dict[str, Any]:
        return {"protocol": p.PROTOCOL_VERSION, "max_photo_bytes": p.MAX_PHOTO_BYTES,
                "photo_chunk": p.PHOTO_CHUNK}

    @app.get("/package-key")
    async def package_key_info() -> dict[str, Any]:
        return package_key  # public: laptops seal their USB packages to it (and pin it)

    gate = logins.LoginGate(db, logins.LoginPolicy.from_env())
    app.state.gate = gate  # the web view's sign-in goes through the same gate
    app.state.read_model = web.read_model_for(db)  # what its pages read: the file or the replica
    web.install(app)

    @app.post("/auth/login")
    async def login(request: Request, body: bodies.Login) -> dict[str, Any]:
        address = request.client.host if request.client else "?"
        token, expires, user = await gate.login(body.user, body.password, address)
        return {"token": token, "expires_at": expires, "role": user.role, "township": user.township}

    # The sync answers are JSON values already (wire form): encoded as they are, without
    # FastAPI's jsonable_encoder walking every field of every record (1.3 ms a page of 25).
    @app.post("/sync/push")
    async def push(user: User, request: Request) -> Response:
        raw = await request.body()  # bounded by limits.BodyLimit
        return JSONResponse(await run_in_threadpool(_push, db, user, raw))

    @app.get("/sync/pull")
    def pull(user: User, device: Annotated[str, Query(min_length=1, max_length=100)],
             # a number; for the city office on PostgreSQL, a number per township (JSON)
             after: Annotated[str, Query(min_length=1, max_length=100_000)] = "0",
             limit: Annotated[int, Query(ge=1, le=10 * p.PULL_PAGE)] = p.PULL_PAGE) -> Response:
        return JSONResponse(apply.pull(db, user, device, after, limit))

    @app.get("/records/{kind}/{record}")
    def read_record(user: User, kind: str, record: str) -> dict[str, Any]:
        return apply.read_record(db, user, kind, record)

    @app.post("/photos/missing")
    def photos_missing(user: User, body: bodies.PhotoHashes) -> dict[str, Any]:
        return {"missing": photos.missing(db, user, body.hashes)}

    @app.get("/photos/{sha256}/received")
    def photo_received(user: User, sha256: str) -> dict[str, Any]:
        return {"received": photos.received(db, user, sha256)}

    @app.put("/photos/{sha256}")
    async def photo_piece(user: User, sha256: str, request: Request,
                          offset: Annotated[int, Query(ge=0)],
                          total: Annotated[int, Query(ge=1)]) -> JSONResponse:
        if not user.can_write:
            raise HTTPException(403, "您的账号只能查看数据，不能上传照片。")
        if total > p.MAX_PHOTO_BYTES:
            raise HTTPException(413, photos.too_large_message(total))
        data = await request.body()  # one piece, at most PHOTO_CHUNK (limits.BodyLimit)
        if len(data) > p.PHOTO_CHUNK:
            raise HTTPException(413, "照片分块过大。")
        try:
            held, done = await run_in_threadpool(photos.put_piece, db, user, sha256, offset, total,
                                                 data)
        except photos.UploadOffsetError as err:
            return JSONResponse(status_code=409, content={"detail": str(err), "received": err.received})
        return JSONResponse({"received": held, "done": done})

    @app.get("/photos/{sha256}")
    def photo_file(user: User, sha256: str) -> FileResponse:
        return FileResponse(photos.check_readable(db, user, sha256),
                            media_type="application/octet-stream")

    @app.post("/packages")
    async def package(user: User, request: Request) -> FileResponse:
        from .package import import_package

        folder = db.blob_dir / "uploads" / "packages"
        declared = int(request.headers.get("content-length") or 0)
        await run_in_threadpool(limits.ensure_room, folder, 2 * declared)  # the package and its reply
        name = secrets.token_hex(8)
        incoming, reply = folder / f"{name}.zip", folder / f"{name}.reply.zip"
        try:
            # Streamed to disk piece by piece (BodyLimit counts), never whole in memory.
            fh = await run_in_threadpool(incoming.open, "wb")
            try:
                async for chunk in request.stream():
                    await run_in_threadpool(fh.write, chunk)
            finally:
                await run_in_threadpool(fh.close)

            def run() -> None:
                with reply.open("wb") as out:
                    import_package(db, incoming, out, user)

            await run_in_threadpool(run)
        except BaseException:
            reply.unlink(missing_ok=True)
            raise
        finally:
            incoming.unlink(missing_ok=True)
        return FileResponse(reply, media_type="application/zip",
                            background=BackgroundTask(reply.unlink, missing_ok=True))

    return app


def _push(db: ServerDB, user: auth.User, raw: bytes) -> dict[str, Any]:
    """Parse and apply one pushed page, off the event loop."""
    limits.ensure_room(db.disk_folder, 4 * len(raw))  # records, history, change log, journal
    try:
        page = bodies.PushPage.model_validate_json(raw)
    except ValidationError as err:
        first = err.errors()[0]
        if first["type"] == "too_long":
            raise HTTPException(413, f"一次最多上传 {bodies.MAX_PAGE} 条修改。") from None
        raise HTTPException(422, "上传内容格式不正确（应有设备编号和修改列表）。") from None
    return {"results": apply.push(db, user, page.device, page.changes, page.accounts)}


def _server_trouble(err: Exception, folder: Path) -> JSONResponse:
    if limits.is_disk_full(err) or limits.nearly_no_space(folder):
        log.error("disk full: %s", err)
        return JSONResponse(status_code=limits.DISK_FULL_STATUS, content={"detail": limits.DISK_FULL})
    log.error("server error: %s", err, exc_info=err)
    return JSONResponse(status_code=500,
                        content={"detail": "服务器内部错误，本机修改都已保留。请稍后重试或联系管理员。"})
