/* The patrol heat map's legend box: shown while the `patrol_heatmap` layer is on, with its colour
 * ramp (GET /api/patrols/heatmap/legend/), the date range the tiles are drawn for (?from=&to=,
 * default today) and a link to the same range as a Cloud-Optimised GeoTIFF.
 * Builds on viewer.js (window.gridcity); listens to the layer tree's checkboxes, edits nothing there. */
(function () {
  "use strict";
  const LAYER = "patrol_heatmap";
  const root = document.getElementById("viewer");
  const legendUrl = root.dataset.heatmapLegendUrl || "/api/patrols/heatmap/legend/";
  const downloadUrl = root.dataset.heatmapDownloadUrl || "/api/patrols/heatmap.tif";
  const g = window.gridcity;
  if (!g) return;
  const { map, el, getJSON } = g;

  const style = document.createElement("style");
  style.textContent = `
    #heatmap-legend { position: absolute; left: 10px; bottom: 30px; z-index: 2; background: rgba(255,255,255,.92);
      border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); padding: 6px 8px; font: 12px/1.4 sans-serif; }
    #heatmap-legend[hidden] { display: none; }
    #heatmap-legend .ramp { display: flex; gap: 0; margin: 4px 0; }
    #heatmap-legend .stop { text-align: center; min-width: 34px; }
    #heatmap-legend .stop i { display: block; height: 10px; }
    #heatmap-legend label { display: block; margin-top: 2px; }
    #heatmap-legend input { font-size: 12px; }`;
  document.head.append(style);

  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10); // Asia/Shanghai
  const from = el("input", { type: "date", name: "from", value: today });
  const to = el("input", { type: "date", name: "to", value: today });
  const ramp = el("div", { class: "ramp" });
  const title = el("strong", {}, "巡查热力图");
  const link = el("a", { href: "#", download: "" }, "下载 GeoTIFF");
  const box = el("div", { id: "heatmap-legend", hidden: "", role: "region", "aria-label": "热力图图例" },
    title, ramp, el("label", {}, "从 ", from), el("label", {}, "至 ", to), link);
  document.getElementById("map").append(box);

  let baseTiles = null; // the style's tile URLs, before any date range was added
  let legendLoaded = false;

  function range() {
    const q = new URLSearchParams();
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    return q.toString();
  }

  function applyRange() {
    const source = map.getSource(LAYER);
    if (!source || !source.setTiles) return;
    if (!baseTiles) baseTiles = (map.getStyle().sources[LAYER] || {}).tiles || [];
    const query = range();
    source.setTiles(baseTiles.map((t) => (query ? `${t}${t.includes("?") ? "&" : "?"}${query}` : t)));
    link.href = `${downloadUrl}?${query}`;
  }

  async function loadLegend() {
    if (legendLoaded) return;
    try {
      const legend = await getJSON(legendUrl);
      title.textContent = `${legend.title}（${legend.unit_zh}）`;
      ramp.replaceChildren(...legend.stops.map((s) => el("span", { class: "stop" },
        el("i", { style: `background:${s.colour};opacity:${s.opacity}` }), `≥${s.value}`)));
      legendLoaded = true;
    } catch (e) {
      ramp.textContent = `图例读取失败：${e.message}`;
    }
  }

  function show(on) {
    box.hidden = !on;
    if (on) { loadLegend(); applyRange(); }
  }

  for (const input of [from, to]) input.addEventListener("change", applyRange);
  document.getElementById("layer-tree").addEventListener("change", (ev) => {
    if (ev.target.dataset && ev.target.dataset.layer === LAYER) show(ev.target.checked);
  });
  map.on("load", () => {
    if (map.getSource(LAYER)) { applyRange(); show(map.getLayoutProperty(`${LAYER}-heat`, "visibility") === "visible"); }
  });
  window.gridcity.heatmap = { show, applyRange, box };
})();
