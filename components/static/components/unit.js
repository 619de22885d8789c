/* 本单位部件: the map of the organisation's selected components only (the page's own GeoJSON, the same
 * filters as the table), over the grid outlines of the tile style; coloured by state. */
(function () {
  "use strict";

  const box = document.getElementById("unit-map");
  const statusEl = document.getElementById("unit-map-status");
  if (!box) return;
  const STATE_COLOURS = ["match", ["get", "state"], "intact", "#16a34a", "damaged", "#f59e0b", "lost", "#dc2626",
    "abandoned", "#6b7280", "removed", "#9ca3af", "#0b5cad"];

  async function json(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" } });
    if (!r.ok) throw new Error(`${r.status}`);
    return r.json();
  }

  async function start() {
    statusEl.textContent = "正在加载…";
    let data, style;
    try {
      [data, style] = await Promise.all([json(box.dataset.source), json(box.dataset.styleUrl).catch(() => null)]);
    } catch (e) {
      statusEl.textContent = `分布图加载失败（${e.message}）`;
      statusEl.classList.add("error");
      return;
    }
    // Context only: the background and the grid outlines; every other layer would show other units' assets.
    const base = { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef0ec" } }] };
    if (style) {
      for (const layer of style.layers || []) {
        if (typeof layer.source !== "string" || !layer.source.endsWith("_grids") || !["line", "fill"].includes(layer.type)) continue;
        base.sources[layer.source] = style.sources[layer.source];
        base.layers.push(layer);
      }
    }
    const map = new maplibregl.Map({ container: box, style: base, center: [116.83, 35.55], zoom: 12, attributionControl: false });
    window.unitMap = map;
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
    map.on("load", () => {
      map.addSource("unit", { type: "geojson", data });
      map.addLayer({ id: "unit", type: "circle", source: "unit", paint: {
        "circle-color": STATE_COLOURS, "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 2.5, 16, 6],
        "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
      const xs = data.features.map((f) => f.geometry.coordinates[0]);
      const ys = data.features.map((f) => f.geometry.coordinates[1]);
      if (xs.length) {
        const pad = 0.0005;
        map.fitBounds([[Math.min(...xs) - pad, Math.min(...ys) - pad], [Math.max(...xs) + pad, Math.max(...ys) + pad]],
          { padding: 30, maxZoom: 17, duration: 0 });
      }
      statusEl.textContent = data.truncated ? `共 ${data.count} 个，图上显示前 ${data.features.length} 个` : `共 ${data.count} 个`;
      box.dataset.shown = String(data.features.length);
    });
    map.on("click", "unit", (e) => {
      const p = e.features[0].properties;
      const content = document.createElement("div");
      const link = document.createElement("a");
      link.href = `/c/${encodeURIComponent(p.code)}`;
      link.textContent = p.code;
      content.append(link, document.createElement("br"), `${p.name || ""} ${p.class}`);
      new maplibregl.Popup().setLngLat(e.lngLat).setDOMContent(content).addTo(map);
    });
    map.on("mouseenter", "unit", () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "unit", () => { map.getCanvas().style.cursor = ""; });
  }

  // A changed select applies at once (the 筛选 button stays for keyboards and no-script).
  for (const select of document.querySelectorAll("#unit-filters select")) {
    select.addEventListener("change", () => select.form.submit());
  }
  start();
})();
