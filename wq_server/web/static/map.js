// 一张图: a small canvas renderer for the server's parcel tiles (see wq_server/web/map_tiles.py).
// Each tile is drawn once into a bitmap of its own; panning and zooming only place bitmaps, so a
// frame costs a few dozen drawImage calls whatever the number of parcels. While a tile of the
// current zoom loads, its parent (already drawn) stands in, scaled. Filters redraw the bitmaps
// from the parsed features without asking the server again.
(function () {
  "use strict";
  var canvas = document.getElementById("map");
  var ctx = canvas.getContext("2d");
  var year = canvas.dataset.year;
  var statusEl = document.getElementById("map-status");
  var dpr = window.devicePixelRatio || 1;
  var meta = null, outlines = null;
  var view = { cx: 0, cy: 0, mpp: 1 }; // centre (metres) and metres per CSS pixel
  var tiles = new Map(); // "z/x/y" -> {state, features, bitmap}
  var filter = { township: "", village: "", measures: new Set([0, 1, 2, 3]), outlines: true };
  var frameQueued = false;
  // What tests and the benchmark wait on: a frame is settled when every tile it needs is drawn.
  var state = window.wqMap = { settled: false, frames: 0, settledFrames: 0, tilesLoaded: 0,
                               lastFrameMs: 0, panBy: panBy, zoomBy: zoomBy, view: view };

  function tileSide(z) { return (meta.extent[2] - meta.extent[0]) / Math.pow(2, z); }

  function zoomFor(mpp) {
    var z = Math.round(Math.log2((meta.extent[2] - meta.extent[0]) / (meta.tile_px * mpp)));
    return Math.max(0, Math.min(meta.max_zoom, z));
  }

  function parseTile(buffer) {
    var dv = new DataView(buffer), at = 0, n = dv.getUint32(0, true), out = [];
    at = 4;
    for (var i = 0; i < n; i++) {
      var cat = dv.getUint8(at), form = dv.getUint8(at + 1), village = dv.getUint16(at + 2, true);
      at += 4;
      if (form === 0) {
        out.push({ cat: cat, village: village, x: dv.getUint16(at, true), y: dv.getUint16(at + 2, true) });
        at += 4;
      } else {
        var rings = [], nr = dv.getUint16(at, true);
        at += 2;
        for (var r = 0; r < nr; r++) {
          var np = dv.getUint16(at, true);
          at += 2;
          rings.push(new Uint16Array(buffer.slice(at, at + np * 4)));
          at += np * 4;
        }
        out.push({ cat: cat, village: village, rings: rings });
      }
    }
    return out;
  }

  function visible(f) {
    if (!filter.measures.has(f.cat)) return false;
    if (filter.village !== "" && f.village !== +filter.village) return false;
    if (filter.township !== "" && meta.villages[f.village].township !== +filter.township) return false;
    return true;
  }

  // A tile's bitmap is twice its side: half a tile of margin all round holds the parts of its
  // parcels that reach over its edges (a parcel belongs to the tile of its centre).
  function drawTile(t) {
    var px = Math.round(meta.tile_px * dpr), k = px / meta.grid, margin = px / 2;
    var bitmap = document.createElement("canvas");
    bitmap.width = bitmap.height = 2 * px;
    var g = bitmap.getContext("2d");
    var dot = Math.max(2, Math.round(1.5 * dpr));
    g.translate(margin - meta.grid * k, margin - meta.grid * k); // coordinates carry GRID as offset
    for (var i = 0; i < t.features.length; i++) {
      var f = t.features[i];
      if (!visible(f)) continue;
      g.fillStyle = meta.colors[f.cat];
      if (f.rings === undefined) {
        g.fillRect(f.x * k - dot / 2, f.y * k - dot / 2, dot, dot);
        continue;
      }
      g.beginPath();
      for (var r = 0; r < f.rings.length; r++) {
        var ring = f.rings[r];
        g.moveTo(ring[0] * k, ring[1] * k);
        for (var p = 2; p < ring.length; p += 2) g.lineTo(ring[p] * k, ring[p + 1] * k);
        g.closePath();
      }
      g.fill("evenodd");
      g.strokeStyle = "rgba(255,255,255,0.8)";
      g.lineWidth = 0.6 * dpr;
      g.stroke();
    }
    t.bitmap = bitmap;
  }

  function fetchTile(z, x, y) {
    var key = z + "/" + x + "/" + y, t = tiles.get(key);
    if (t) return t;
    t = { state: "loading", features: null, bitmap: null };
    tiles.set(key, t);
    fetch("/web/map/tile/" + key + "?year=" + year, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.arrayBuffer(); })
      .then(function (buf) { t.features = parseTile(buf); t.state = "ready"; state.tilesLoaded++; queue(); })
      .catch(function () { t.state = "failed"; statusEl.textContent = "部分图块加载失败，请刷新页面重试。"; queue(); });
    return t;
  }

  function tileRange(z) {
    var side = tileSide(z), w = canvas.width / dpr, h = canvas.height / dpr, n = Math.pow(2, z);
    var west = view.cx - w / 2 * view.mpp, north = view.cy + h / 2 * view.mpp;
    var east = view.cx + w / 2 * view.mpp, south = view.cy - h / 2 * view.mpp;
    // One tile of margin: a parcel belongs to the tile of its centre and may reach into the next.
    return {
      x0: Math.max(0, Math.floor((west - meta.extent[0]) / side) - 1),
      x1: Math.min(n - 1, Math.floor((east - meta.extent[0]) / side) + 1),
      y0: Math.max(0, Math.floor((meta.extent[3] - north) / side) - 1),
      y1: Math.min(n - 1, Math.floor((meta.extent[3] - south) / side) + 1),
    };
  }

  function screenOf(x, y) {
    return [(x - view.cx) / view.mpp + canvas.width / dpr / 2, (view.cy - y) / view.mpp + canvas.height / dpr / 2];
  }

  function placeTile(t, z, x, y) {
    if (!t.bitmap) drawTile(t);
    var side = tileSide(z), s = screenOf(meta.extent[0] + x * side, meta.extent[3] - y * side);
    var size = side / view.mpp;
    ctx.drawImage(t.bitmap, (s[0] - size / 2) * dpr, (s[1] - size / 2) * dpr, 2 * size * dpr, 2 * size * dpr);
  }

  function drawStandIn(z, x, y) {
    for (var up = 1; up <= z; up++) {
      var pz = z - up, px = x >> up, py = y >> up, t = tiles.get(pz + "/" + px + "/" + py);
      if (t && t.state === "ready") {
        var side = tileSide(z), s = screenOf(meta.extent[0] + x * side, meta.extent[3] - y * side);
        var size = side / view.mpp, part = Math.pow(2, up), tpx = Math.round(meta.tile_px * dpr);
        var bpx = tpx / part, margin = tpx / 2;
        if (!t.bitmap) drawTile(t);
        ctx.drawImage(t.bitmap, margin + (x - (px << up)) * bpx, margin + (y - (py << up)) * bpx, bpx, bpx,
                      s[0] * dpr, s[1] * dpr, size * dpr, size * dpr);
        return;
      }
    }
  }

  function drawOutlines() {
    if (!outlines || !filter.outlines) return;
    function stroke(rings, width, colour) {
      ctx.beginPath();
      rings.forEach(function (ring) {
        for (var i = 0; i < ring.length; i += 2) {
          var s = screenOf(ring[i], ring[i + 1]);
          if (i === 0) ctx.moveTo(s[0] * dpr, s[1] * dpr); else ctx.lineTo(s[0] * dpr, s[1] * dpr);
        }
        ctx.closePath();
      });
      ctx.lineWidth = width * dpr;
      ctx.strokeStyle = colour;
      ctx.stroke();
    }
    outlines.villages.forEach(function (rings, i) {
      if (filter.township !== "" && meta.villages[i].township !== +filter.township) return;
      if (filter.village !== "" && i !== +filter.village) return;
      stroke(rings, 1, "rgba(90,90,90,0.7)");
    });
    outlines.townships.forEach(function (rings, i) {
      if (filter.township !== "" && i !== +filter.township) return;
      stroke(rings, 2.2, "rgba(30,40,60,0.9)");
    });
  }

  function render() {
    frameQueued = false;
    var start = performance.now();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#fbfbf8";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    var z = zoomFor(view.mpp), range = tileRange(z), pending = 0;
    for (var y = range.y0; y <= range.y1; y++) {
      for (var x = range.x0; x <= range.x1; x++) {
        var t = fetchTile(z, x, y);
        if (t.state === "ready") placeTile(t, z, x, y);
        else { if (t.state === "loading") pending++; drawStandIn(z, x, y); }
      }
    }
    drawOutlines();
    state.frames++;
    state.lastFrameMs = performance.now() - start;
    state.settled = pending === 0;
    canvas.dataset.settled = state.settled ? "1" : "0";
    if (state.settled) {
      state.settledFrames++;
      statusEl.textContent = "已显示：" + summaryText();
    } else {
      statusEl.textContent = "正在加载图块（" + pending + "）…";
    }
  }

  function summaryText() {
    return meta.categories.map(function (c) { return c + " " + meta.counts[c]; }).join("，") +
      (meta.unmapped ? "；未落图 " + meta.unmapped + " 块（不在图上）" : "");
  }

  function queue() {
    if (!frameQueued) { frameQueued = true; requestAnimationFrame(render); }
  }

  function unsettle() { state.settled = false; canvas.dataset.settled = "0"; }

  function panBy(dx, dy) { view.cx -= dx * view.mpp; view.cy += dy * view.mpp; unsettle(); queue(); }

  function zoomBy(factor, sx, sy) {
    var w = canvas.width / dpr, h = canvas.height / dpr;
    sx = sx === undefined ? w / 2 : sx; sy = sy === undefined ? h / 2 : sy;
    var wx = view.cx + (sx - w / 2) * view.mpp, wy = view.cy - (sy - h / 2) * view.mpp;
    var min = 0.3, max = (meta.extent[2] - meta.extent[0]) / 200;
    view.mpp = Math.max(min, Math.min(max, view.mpp / factor));
    view.cx = wx - (sx - w / 2) * view.mpp;
    view.cy = wy + (sy - h / 2) * view.mpp;
    unsettle();
    queue();
  }

  function resize() {
    var w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    queue();
  }

  function redrawBitmaps() { tiles.forEach(function (t) { t.bitmap = null; }); unsettle(); queue(); }

  function setupFilters() {
    var town = document.getElementById("f-township"), village = document.getElementById("f-village");
    meta.townships.forEach(function (name, i) { town.add(new Option(name, String(i))); });
    function villages() {
      while (village.options.length > 1) village.remove(1);
      meta.villages.forEach(function (v, i) {
        if (town.value === "" || v.township === +town.value) village.add(new Option(v.name, String(i)));
      });
    }
    villages();
    town.addEventListener("change", function () {
      filter.township = town.value; filter.village = ""; villages(); redrawBitmaps();
    });
    village.addEventListener("change", function () { filter.village = village.value; redrawBitmaps(); });
    document.querySelectorAll(".f-measure").forEach(function (box) {
      box.addEventListener("change", function () {
        if (box.checked) filter.measures.add(+box.value); else filter.measures.delete(+box.value);
        redrawBitmaps();
      });
    });
    document.getElementById("f-outlines").addEventListener("change", function (e) {
      filter.outlines = e.target.checked; queue();
    });
  }

  function showDetails(info) {
    var box = document.getElementById("details"), table = document.getElementById("details-table");
    var actions = document.getElementById("details-actions");
    table.textContent = ""; actions.textContent = "";
    if (!info.parcel) { box.hidden = true; return; }
    info.rows.forEach(function (row) {
      var tr = table.insertRow(), th = document.createElement("th");
      th.textContent = row[0]; tr.appendChild(th);
      tr.insertCell().textContent = row[1];
    });
    if (meta.office) {
      [["parcel", info.parcel, "督办该地块"], ["operator", info.operator, "督办该户"]].forEach(function (a) {
        if (!a[1]) return;
        var link = document.createElement("a");
        link.href = "/web/supervision/new?kind=" + a[0] + "&target=" + encodeURIComponent(a[1]);
        link.textContent = a[2]; link.className = "act";
        actions.appendChild(link);
      });
    }
    box.hidden = false;
  }

  function setupPointer() {
    var drag = null;
    canvas.addEventListener("mousedown", function (e) { drag = { x: e.clientX, y: e.clientY, moved: 0 }; });
    window.addEventListener("mousemove", function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      drag.moved += Math.abs(dx) + Math.abs(dy);
      drag.x = e.clientX; drag.y = e.clientY;
      panBy(dx, dy);
    });
    window.addEventListener("mouseup", function (e) {
      if (!drag) return;
      var click = drag.moved < 4;
      drag = null;
      if (!click || e.target !== canvas) return;
      var rect = canvas.getBoundingClientRect(), sx = e.clientX - rect.left, sy = e.clientY - rect.top;
      var wx = view.cx + (sx - rect.width / 2) * view.mpp, wy = view.cy - (sy - rect.height / 2) * view.mpp;
      fetch("/web/map/at?year=" + year + "&x=" + wx + "&y=" + wy, { credentials: "same-origin" })
        .then(function (r) { return r.json(); }).then(showDetails);
    });
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      var rect = canvas.getBoundingClientRect();
      zoomBy(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - rect.left, e.clientY - rect.top);
    }, { passive: false });
    document.getElementById("details-close").addEventListener("click", function () {
      document.getElementById("details").hidden = true;
    });
    window.addEventListener("resize", resize);
  }

  fetch("/web/map/meta?year=" + year, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (m) {
      meta = m;
      var b = m.bounds;
      view.cx = (b[0] + b[2]) / 2; view.cy = (b[1] + b[3]) / 2;
      resize();
      view.mpp = 1.05 * Math.max((b[2] - b[0]) / (canvas.width / dpr), (b[3] - b[1]) / (canvas.height / dpr));
      setupFilters(); setupPointer(); queue();
      fetch("/web/map/outlines?year=" + year, { credentials: "same-origin" })
        .then(function (r) { return r.json(); }).then(function (o) { outlines = o; queue(); });
    })
    .catch(function () { statusEl.textContent = "地图数据加载失败，请刷新页面重试。"; });
})();
