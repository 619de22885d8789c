/* Map tools: the coordinate readout and the distance and area measure.
 *
 * Coordinates: the map's longitudes and latitudes are CGCS2000 (EPSG:4490) degrees, the storage CRS:
 * the tiles project them to Web Mercator as they are, so what MapLibre reports under the pointer is
 * CGCS2000 itself. The readout follows the pointer (a tap on a phone) and copies itself on a click.
 *
 * Measure: vertices clicked on the map are sent to /api/measure/, which measures them in metres in
 * the CGCS2000 3-degree Gauss-Krueger zone of the shape (gis_core/measure.py); nothing is measured in
 * degrees or in Web Mercator here. While a measure is on, map clicks add vertices and open no cards. */
(function () {
  "use strict";

  const g = window.gridcity;
  if (!g) return;
  const map = g.map;
  const MEASURE = "gc-measure";
  const EMPTY = { type: "FeatureCollection", features: [] };
  const fmt = (v) => v.toFixed(6);
  const number = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 2, minimumFractionDigits: 2 });

  // ---- coordinate readout --------------------------------------------------------------------

  class Coordinates {
    onAdd() {
      this.box = document.createElement("div");
      this.box.className = "maplibregl-ctrl gc-coords";
      this.button = document.createElement("button");
      this.button.type = "button";
      this.button.id = "coords";
      this.button.title = "CGCS2000 经纬度（EPSG:4490），点击复制";
      this.button.addEventListener("click", () => copy(this.button.dataset.value));
      this.box.append(this.button);
      // The centre until the pointer moves: the map may still be moving to its start view, so the
      // readout follows it then (a centre read now could be 0,0 over 兖州).
      const centre = () => { if (!this.pointerSeen) show(map.getCenter()); };
      map.on("moveend", centre);
      map.once("load", centre);
      map.getCanvasContainer().addEventListener("pointermove", () => { this.pointerSeen = true; }, { once: true });
      this.button.textContent = "CGCS2000";
      return this.box;
    }

    onRemove() { this.box.remove(); }
  }
  const readout = new Coordinates();

  function show(lngLat) {
    if (!readout.button) return;
    const value = `${fmt(lngLat.lng)},${fmt(lngLat.lat)}`;
    readout.button.dataset.value = value;
    readout.button.textContent = `CGCS2000  ${fmt(lngLat.lng)}°E  ${fmt(lngLat.lat)}°N`;
  }

  async function copy(text) {
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (e) {
      // No clipboard API outside a secure context (plain http on a LAN address): the old way.
      const area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.append(area);
      area.select();
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      area.remove();
    }
    readout.button.dataset.copied = ok ? text : "";
    g.setStatus(ok ? `已复制坐标 ${text}（CGCS2000）` : `无法复制，请手动记录：${text}`, !ok);
  }

  map.addControl(readout, "bottom-left");
  map.on("mousemove", (e) => show(e.lngLat));
  map.on("click", (e) => show(e.lngLat));

  // ---- measure -------------------------------------------------------------------------------

  let mode = null; // "line" | "area" | null
  let vertices = [];
  let request = 0;
  const panel = document.createElement("div");
  panel.id = "measure-result";
  panel.className = "gc-measure";
  panel.setAttribute("role", "status");
  panel.hidden = true;
  document.getElementById("map").append(panel);

  function ensureLayers() {
    if (map.getSource(MEASURE)) return;
    map.addSource(MEASURE, { type: "geojson", data: EMPTY });
    map.addLayer({ id: `${MEASURE}-fill`, type: "fill", source: MEASURE, filter: ["==", ["geometry-type"], "Polygon"],
      paint: { "fill-color": "#f97316", "fill-opacity": 0.15 } });
    map.addLayer({ id: `${MEASURE}-line`, type: "line", source: MEASURE, filter: ["!=", ["geometry-type"], "Point"],
      paint: { "line-color": "#f97316", "line-width": 2.5, "line-dasharray": [2, 1] } });
    map.addLayer({ id: `${MEASURE}-points`, type: "circle", source: MEASURE, filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 4, "circle-color": "#fff", "circle-stroke-color": "#f97316", "circle-stroke-width": 2 } });
  }

  function draw() {
    ensureLayers();
    const features = vertices.map((c) => ({ type: "Feature", geometry: { type: "Point", coordinates: c }, properties: {} }));
    if (mode === "area" && vertices.length >= 3) {
      features.push({ type: "Feature", geometry: { type: "Polygon", coordinates: [[...vertices, vertices[0]]] }, properties: {} });
    } else if (vertices.length >= 2) {
      features.push({ type: "Feature", geometry: { type: "LineString", coordinates: vertices }, properties: {} });
    }
    map.getSource(MEASURE).setData({ type: "FeatureCollection", features });
  }

  function say(...parts) {
    panel.hidden = false;
    const close = g.el("button", { type: "button", class: "measure-end", onclick: () => stop(true) }, "清除");
    panel.replaceChildren(g.el("div", {}, ...parts), close);
  }

  async function update() {
    const kind = mode; // the measure may be finished (mode null) before the answer comes
    const need = kind === "area" ? 3 : 2;
    if (vertices.length < need) {
      say(kind === "area" ? "测面积：在地图上点击加点（至少 3 个），双击结束" : "测距：在地图上点击加点，双击结束");
      return;
    }
    const mine = ++request;
    const coords = vertices.map((c) => `${c[0].toFixed(8)},${c[1].toFixed(8)}`).join(";");
    let r;
    try {
      r = await g.getJSON(`/api/measure/?kind=${kind}&coords=${encodeURIComponent(coords)}`);
    } catch (e) {
      if (mine === request) say(g.el("span", { class: "error" }, `测量失败：${e.message}`));
      return;
    }
    if (mine !== request) return;
    const zone = `高斯-克吕格 3° 带 ${r.crs}，中央经线 ${r.central_meridian}°`;
    const main = kind === "line"
      ? g.el("b", { "data-metres": r.length_m }, `总长 ${number.format(r.length_m)} 米`)
      : g.el("b", { "data-square-metres": r.area_m2 }, `面积 ${number.format(r.area_m2)} 平方米`);
    const extra = kind === "line"
      ? (r.segments_m.length > 1 ? `，末段 ${number.format(r.segments_m[r.segments_m.length - 1])} 米` : "")
      : `，周长 ${number.format(r.perimeter_m)} 米${r.area_m2 >= 10000 ? `（${number.format(r.area_m2 / 666.6667)} 亩）` : ""}`;
    say(main, extra, g.el("br"), g.el("small", {}, zone), r.warning ? g.el("div", { class: "error" }, r.warning) : "");
    panel.dataset.done = String(vertices.length);
  }

  function start(kind) {
    stop(true);
    mode = kind;
    vertices = [];
    map.doubleClickZoom.disable(); // a double click ends the measure instead
    map.getCanvas().style.cursor = "crosshair";
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
    g.closePopup();
    update();
  }

  function stop(clear) {
    mode = null;
    for (const b of buttons) b.setAttribute("aria-pressed", "false");
    map.getCanvas().style.cursor = "";
    setTimeout(() => map.doubleClickZoom.enable(), 0); // after the double click that ended it
    if (clear) {
      request++; // an answer still on its way is for a measure now gone (a finished one keeps its last answer)
      vertices = [];
      if (map.getSource(MEASURE)) map.getSource(MEASURE).setData(EMPTY);
      panel.hidden = true;
      panel.replaceChildren();
      delete panel.dataset.done;
    }
  }

  map.on("click", (e) => {
    if (!mode) return;
    vertices.push([e.lngLat.lng, e.lngLat.lat]);
    draw();
    update();
  });
  map.on("dblclick", (e) => {
    if (!mode) return;
    e.preventDefault();
    // The double click's two clicks added the same vertex twice: keep one.
    const n = vertices.length;
    if (n >= 2 && vertices[n - 1][0] === vertices[n - 2][0] && vertices[n - 1][1] === vertices[n - 2][1]) vertices.pop();
    draw();
    update();
    stop(false);
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && mode) stop(true); });

  const buttons = [];
  class Measure {
    onAdd() {
      this.box = document.createElement("div");
      this.box.className = "maplibregl-ctrl maplibregl-ctrl-group gc-tools";
      for (const [kind, text, title] of [["line", "测距", "测量距离（米）"], ["area", "测面", "测量面积（平方米）"]]) {
        const b = document.createElement("button");
        b.type = "button";
        b.id = `measure-${kind}`;
        b.dataset.kind = kind;
        b.title = title;
        b.setAttribute("aria-label", title);
        b.setAttribute("aria-pressed", "false");
        b.textContent = text;
        b.addEventListener("click", () => (mode === kind ? stop(false) : start(kind)));
        buttons.push(b);
        this.box.append(b);
      }
      return this.box;
    }

    onRemove() { this.box.remove(); }
  }
  map.addControl(new Measure(), "top-right");

  g.tools = { measuring: () => mode !== null, startMeasure: start, stopMeasure: stop, vertices: () => vertices.slice() };
})();
