"""A page of the web view that the core refuses to make (a WqError from wq_desktop) shows the
reason on the web view's own error page, in Chinese, as its other errors do; the sync API still
answers such errors with JSON for the laptop."""

from __future__ import annotations

from pathlib import Path

import requests
from serverproc import ServerProcess, Township, admin, new_server_db
from web_seed import OFFICE, web_session

RARE = "\U00030ede"  # 𰻞 (biáng): no font the printed documents use has it


def test_a_summary_the_core_cannot_print_shows_the_reason_on_the_error_page(
        tmp_path: Path, backend: str) -> None:
    server = ServerProcess(new_server_db(tmp_path, backend)).start()
    try:
        admin(server.db, "adduser", "--name", OFFICE, "--role", "office")
        town = Township(server, tmp_path, "652301105", "六工镇", laptops=1)
        town.stores[0].create("village", {"township": town.uuid, "code": "652301105901",
                                          "name": f"{RARE}村"})
        town.sync(0)
        browser, _csrf = web_session(server.url, OFFICE)

        answer = browser.get(server.url + "/web/summary.pdf", params={"year": 2025}, timeout=120)

        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("text/html")
        assert "无法显示该页面" in answer.text and "未打印" in answer.text and RARE in answer.text
        assert answer.headers["X-Frame-Options"] == "DENY"  # the web view's headers, as every page
        # The sync API keeps answering the laptop in JSON.
        api = requests.get(server.url + "/records/nosuchkind/x", timeout=30,
                           headers=town.server.headers(town.users[0]))
        assert api.status_code == 404 and "未知的记录类型" in api.json()["detail"]
        town.close()
    finally:
        server.stop()
