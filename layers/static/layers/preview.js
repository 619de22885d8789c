/* One catalogue layer alone on a map (the layer preview page): its own style layers from the
 * catalogue's style (vector or raster tiles); a layer served by WFS only is left to GIS clients. A click lists the clicked feature's properties. */
(function () {
  "use strict";

  const box = document.getElementById("preview-map");
  const statusEl = document.getElementById("preview-status");
  const propsEl = document.querySelector("#preview-props tbody");
  const id = box.dataset.layer;
  const mode = box.dataset.mode;
  const [west, south, east, north] = box.dataset.bounds.split(",").map(Number);
  const headers = { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" };

  async function json(url) {
    const r = await fetch(url, { credentials: "same-origin", headers });
    if (!r.ok) throw new Error(`${r.status}`);
    return r.json();
  }

  function say(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", Boolean(isError));
  }

  async function styleFor() {
    const base = { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef0ec" } }] };
    if (mode === "wfs") {
      // WFS answers GIS clients with HTTP Basic, not the browser's session: no map here.
      throw new Error("此图层只提供 WFS，请在 QGIS 等 GIS 软件中以 HTTP Basic 登录后查看");
    }
    const style = await json(box.dataset.styleUrl);
    if (style.glyphs) base.glyphs = style.glyphs;
    base.sources[id] = style.sources[id];
    for (const layer of style.layers) if (layer.source === id) base.layers.push({ ...layer, layout: { ...(layer.layout || {}), visibility: "visible" } });
    if (!base.sources[id]) throw new Error("样式中没有此图层");
    return base;
  }

  async function start() {
    say("正在加载…");
    let style;
    try {
      style = await styleFor();
    } catch (e) {
      say(mode === "wfs" ? e.message : `加载失败（${e.message}）`, mode !== "wfs");
      return;
    }
    const map = new maplibregl.Map({ container: box, style, bounds: [[west, south], [east, north]], attributionControl: false });
    window.previewMap = map;
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
    const minzoom = Number(box.dataset.minzoom || 0);
    map.on("load", () => {
      if (map.getZoom() < minzoom) map.setZoom(minzoom);
      box.dataset.ready = "1";
      say(minzoom ? `第 ${minzoom} 级起可见` : "");
    });
    map.on("click", (e) => {
      const hits = map.queryRenderedFeatures([[e.point.x - 4, e.point.y - 4], [e.point.x + 4, e.point.y + 4]]).filter((f) => f.source === id);
      if (!hits.length) { propsEl.replaceChildren(); return; }
      propsEl.replaceChildren(...Object.entries(hits[0].properties).map(([k, v]) => {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        const td = document.createElement("td");
        th.textContent = k;
        td.textContent = typeof v === "object" ? JSON.stringify(v) : String(v);
        tr.append(th, td);
        return tr;
      }));
    });
  }
  start();
})();
