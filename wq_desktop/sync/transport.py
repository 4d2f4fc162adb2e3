"""HTTP to the sync server, with every failure turned into one Chinese sentence.

Works over any session with `request(method, url, params=, json=, data=, headers=, timeout=)`:
requests.Session in the program (HTTPS with an optional CA bundle through `verify`), an adapter
over FastAPI's in-process TestClient in tests.
"""

from __future__ import annotations

import hashlib
import json as json_mod
from typing import Any

from . import protocol as p
from .checks import BadAnswer
from .errors import AuthError, CertificateError, OfflineError, SyncError, VersionError

TIMEOUT_S = 60


class Connection:
    def __init__(self, server: str, *, session: Any = None, verify: bool | str = True) -> None:
        if not server.startswith(("http://", "https://")):
            raise SyncError(f"服务器地址应以 http:// 或 https:// 开头，实为“{server}”。")
        self.base = server.rstrip("/")
        # `verify` goes with every request, not on the session: requests lets REQUESTS_CA_BUNDLE /
        # CURL_CA_BUNDLE override a session's verify, which would drop the office CA file.
        self.send_options: dict[str, Any] = {}
        if session is None:
            import requests  # imported on the first sync, not when the window opens

            session = requests.Session()
            self.send_options["verify"] = verify
        self.session = session
        self.token: str | None = None
        self.relogin: Any = None  # set by the client: called once when a token expires mid-sync

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                data: bytes | None = None, headers: dict[str, str] | None = None,
                auth: bool = True, retry_login: bool = True) -> Any:
        import requests

        sent = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION), **(headers or {})}
        if auth and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.session.request(method, self.base + path, params=params, json=json,
                                            data=data, headers=sent, timeout=TIMEOUT_S,
                                            **self.send_options)
        except requests.exceptions.SSLError:
            raise CertificateError(
                f"无法验证服务器 {self.base} 的证书：证书不受本机信任，或与服务器地址不符。"
                "本机修改都已保留。请向管理员索取服务器证书文件，在“文件 → 设置…”的“服务器证书”"
                "中选择它（命令行用 --ca-bundle 指定）后重试。") from None
        except (requests.ConnectionError, requests.Timeout, OSError):
            raise OfflineError(
                f"无法连接同步服务器 {self.base}：请检查网络。可以继续离线工作，修改都保存在本机，"
                "联网后再同步。") from None
        except requests.RequestException:  # a cut body, a garbled header, too many redirects
            raise OfflineError(
                f"与同步服务器 {self.base} 的连接中途断开或回答已损坏：本机没有写入这次的回答。"
                "修改都保存在本机，请稍后重试。") from None
        status = response.status_code
        if status == 401 and auth and retry_login and self.relogin is not None:
            self.relogin()
            return self.request(method, path, json=json, params=params, data=data, headers=headers,
                                auth=auth, retry_login=False)
        if status == 401:
            raise AuthError(error_detail(response) or "用户名或密码错误。")
        if status == 426:
            raise VersionError(error_detail(response) or "程序版本与服务器不兼容，请升级程序。")
        return response

    def json(self, method: str, path: str, **kw: Any) -> Any:
        response = self.request(method, path, **kw)
        if response.status_code >= 400:
            raise SyncError(error_detail(response) or f"服务器返回错误（{response.status_code}）。")
        return body_of(response)


def body_of(response: Any) -> Any:
    """The JSON of an answer whose digest matches its bytes; SyncError for anything else."""
    content = response.content
    sent = response.headers.get(p.DIGEST_HEADER)
    if sent is None:
        raise BadAnswer("缺少校验值")
    if hashlib.sha256(content).hexdigest() != sent.strip().lower():
        raise BadAnswer("校验值不符")
    try:
        return json_mod.loads(content)
    except ValueError:
        raise BadAnswer("不是有效的 JSON") from None


def error_detail(response: Any) -> str | None:
    try:
        body = json_mod.loads(response.content)
    except (ValueError, TypeError):
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    # Shown to the user as is: only if the bytes are what the server sent.
    sent = response.headers.get(p.DIGEST_HEADER)
    if not isinstance(detail, str) or sent != hashlib.sha256(response.content).hexdigest():
        return None
    return detail
