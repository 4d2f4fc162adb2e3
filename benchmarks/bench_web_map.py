"""一张图 at city scale in a real Chromium against a real server process, as ratios to a bare
baseline doing the same drawing in the same browser and run:

- first draw: from opening /web/map to a settled frame (every tile the view needs drawn), with
  the server's map model cold (built from the store by this request; a running server builds it
  at start-up) and warm; baseline: a bare page that fetches every parcel's centre (read with
  plain sqlite3) in one binary and draws each as a dot on a canvas of the same size;
- pan: 400×250 px, to a settled frame, at the whole-city view and zoomed in 8×; baseline: the bare
  page redrawing all its dots at the new offset (a naive full redraw).

Store: WQ_BENCH_CITY (default /tmp/scale/city.sqlite), copied first; WQ_BENCH_CITY_COPY names a
copy of it that may be used (and changed) as is, to skip the copy and its one-time migration.
"""

from __future__ import annotations

import http.server
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "server"))

from benchmarks.harness import Ratio

PASSWORD = "swift-river-72"
OFFICE = "市办基准"
WIDTH, HEIGHT = 1400, 900
PANS = 5

BARE_PAGE = """<!doctype html><html><body style="margin:0">
<canvas id="map" width="%(w)d" height="%(h)d"></canvas>
<script>
var canvas = document.getElementById("map"), ctx = canvas.getContext("2d"), xy = null, box = null;
var off = [0, 0];
function draw() {
  ctx.fillStyle = "#fbfbf8"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  var k = Math.min(canvas.width / (box[2] - box[0]), canvas.height / (box[3] - box[1]));
  ctx.fillStyle = "#e87622";
  for (var i = 0; i < xy.length; i += 2)
    ctx.fillRect((xy[i] - box[0]) * k + off[0], (box[3] - xy[i + 1]) * k + off[1], 2, 2);
  canvas.dataset.settled = "1";
}
window.panBy = function (dx, dy) { canvas.dataset.settled = "0"; off[0] += dx; off[1] += dy;
  requestAnimationFrame(draw); };
fetch("/points.bin").then(r => r.arrayBuffer()).then(function (buf) {
  xy = new Float64Array(buf, 32); box = new Float64Array(buf, 0, 4); requestAnimationFrame(draw);
});
</script></body></html>"""


def _store_copy() -> Path:
    given = os.environ.get("WQ_BENCH_CITY_COPY")
    if given:
        return Path(given)
    source = Path(os.environ.get("WQ_BENCH_CITY", "/tmp/scale/city.sqlite"))
    target = Path(tempfile.mkdtemp(prefix="wq-bench-map-")) / "city.sqlite"
    subprocess.run(["cp", "--reflink=auto", str(source), str(target)], check=True)
    return target


def _bare_points(db: Path) -> bytes:
    """Every mapped live parcel's bbox centre, as a baseline reads it: plain sqlite3, numpy."""
    conn = sqlite3.connect(db)
    rows = np.array(conn.execute("SELECT (minx+maxx)/2, (miny+maxy)/2 FROM parcel"
                                 " WHERE deleted=0 AND minx IS NOT NULL").fetchall(), dtype="<f8")
    conn.close()
    box = np.array([rows[:, 0].min(), rows[:, 1].min(), rows[:, 0].max(), rows[:, 1].max()], "<f8")
    return box.tobytes() + rows.ravel().tobytes()


def _bare_server(points: bytes) -> tuple[http.server.ThreadingHTTPServer, str]:
    page = (BARE_PAGE % {"w": WIDTH, "h": HEIGHT}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = (points, "application/octet-stream") if self.path == "/points.bin" \
                else (page, "text/html; charset=utf-8")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _settle(page, timeout: float = 600_000) -> None:
    page.wait_for_selector("canvas#map[data-settled='1']", timeout=timeout)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _pans(page, pan) -> float:
    times = []
    for i in range(PANS):
        sign = 1 if i % 2 == 0 else -1
        times.append(_timed(lambda s=sign: (pan(page, 400 * s, 250 * s), _settle(page))))
    return statistics.median(times)


def main() -> list[Ratio]:
    from browser import chromium, sign_in
    from serverproc import ServerProcess

    db = _store_copy()
    env = {**os.environ, "WQ_PASSWORD": PASSWORD}
    users = subprocess.run([sys.executable, "-m", "wq_server", "list-users", "--db", str(db)],
                           env=env, capture_output=True, text=True, check=True).stdout
    if OFFICE not in users:
        subprocess.run([sys.executable, "-m", "wq_server", "adduser", "--db", str(db), "--name", OFFICE,
                        "--role", "office"], env=env, check=True, capture_output=True)
    parcels = sqlite3.connect(db).execute(
        "SELECT count(*) FROM parcel WHERE deleted=0 AND minx IS NOT NULL").fetchone()[0]
    server = ServerProcess(db, WQ_WEB_MAP_WARM_UP="0").start()  # cold: built by the first visit
    results = []
    try:
        with chromium(WIDTH, HEIGHT) as page:
            sign_in(page, server.url, OFFICE, PASSWORD, target="/web/login")  # a page that counts nothing
            cold = _timed(lambda: (page.goto(server.url + "/web/map"), _settle(page)))
            warm = _timed(lambda: (page.goto(server.url + "/web/map"), _settle(page)))
            pan_city = _pans(page, lambda p, dx, dy: p.evaluate(f"window.wqMap.panBy({dx}, {dy})"))
            page.evaluate("window.wqMap.zoomBy(8)")
            _settle(page)
            pan_zoomed = _pans(page, lambda p, dx, dy: p.evaluate(f"window.wqMap.panBy({dx}, {dy})"))
            tiles = page.evaluate("window.wqMap.tilesLoaded")
            frame_ms = page.evaluate("window.wqMap.lastFrameMs")
    finally:
        server.stop()
    bare, url = _bare_server(_bare_points(db))
    try:
        with chromium(WIDTH, HEIGHT) as page:
            first = _timed(lambda: (page.goto(url + "/"), _settle(page)))
            pan_bare = _pans(page, lambda p, dx, dy: p.evaluate(f"window.panBy({dx}, {dy})"))
    finally:
        bare.shutdown()
    for name, product, baseline in (
            (f"map first draw, model cold ({parcels} parcels)", cold, first),
            (f"map first draw, model warm ({parcels} parcels)", warm, first),
            ("map pan at city view", pan_city, pan_bare),
            ("map pan zoomed in 8×", pan_zoomed, pan_bare)):
        r = Ratio(name, product, baseline)
        print(r.line(), flush=True)
        results.append(r)
    print(f"tiles fetched {tiles}, last frame {frame_ms:.1f} ms in the page", flush=True)
    if not os.environ.get("WQ_BENCH_CITY_COPY"):
        shutil.rmtree(db.parent, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
