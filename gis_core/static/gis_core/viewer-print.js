/* Print / export of the current view (打印/导出): a map control that asks GET /api/print/ for the view
 * as a page (title, legend, scale bar, north arrow, date) in PNG or PDF, rendered by the server from
 * our own layers at twice the screen's pixels, and saves it as a download.
 *
 * Sends the view's box, the map's size in screen pixels and the tile layers shown at this zoom; the
 * server draws them in the viewer's order (basemap first) and leaves out any the account may not see.
 * The online basemap (GRIDCITY_BASEMAP_URL), if any, is not printed: the server draws only our layers.
 * Needs window.gridcity (viewer.js): map, styleLayersOf, el, setStatus. Built with textContent only. */
(function () {
  "use strict";

  const g = window.gridcity;
  if (!g) return;
  const { map, el } = g;
  const SCALE = 2;
  const MAX_LAYERS = 20;

  function shownLayers() {
    const z = map.getZoom();
    return Object.entries(g.styleLayersOf)
      .filter(([id, styleIds]) => {
        const source = map.getSource(id);
        if (source && source.minzoom && z < source.minzoom) return false;
        return styleIds.some((s) => map.getLayer(s) && map.getLayoutProperty(s, "visibility") !== "none");
      })
      .map(([id]) => id);
  }

  function printUrl(title, format) {
    const b = map.getBounds();
    const c = map.getContainer();
    const q = new URLSearchParams({
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(","),
      width: String(Math.round(c.clientWidth)),
      height: String(Math.round(c.clientHeight)),
      scale: String(SCALE),
      layers: shownLayers().slice(0, MAX_LAYERS).join(","),
      title,
      format,
    });
    return `/api/print/?${q}`;
  }

  async function download(title, format, button) {
    if (!shownLayers().length) { g.setStatus("没有可打印的图层：请先勾选图层", true); return; }
    button.disabled = true;
    g.setStatus("正在生成打印图…");
    try {
      const r = await fetch(printUrl(title, format), { credentials: "same-origin" });
      if (r.status === 401) { g.logInAgain(); return; }
      if (!r.ok) {
        let message = `请求失败 (${r.status})`;
        try { message = (await r.json()).message || message; } catch (e) { /* not JSON */ }
        throw new Error(message);
      }
      const blob = await r.blob();
      const a = el("a", { href: URL.createObjectURL(blob), download: `${title || "地图"}.${format}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
      const omitted = r.headers.get("X-GridCity-Omitted-Layers");
      g.setStatus(omitted ? `已导出；无权查看的图层未打印：${omitted}` : "已导出打印图");
    } catch (e) {
      g.setStatus(`打印失败：${e.message}`, true);
    } finally {
      button.disabled = false;
    }
  }

  class PrintControl {
    onAdd() {
      const box = el("div", { class: "maplibregl-ctrl maplibregl-ctrl-group gc-print" });
      const form = el("form", { class: "gc-print-form", hidden: "" });
      const title = el("input", { name: "title", type: "text", maxlength: "60", value: "城市网格地图", "aria-label": "标题" });
      const format = el("select", { name: "format", "aria-label": "格式" },
        el("option", { value: "png" }, "PNG 图片"), el("option", { value: "pdf" }, "PDF 文档"));
      const go = el("button", { type: "submit", class: "gc-print-go" }, "导出");
      form.append(el("label", {}, "标题 ", title), el("label", {}, "格式 ", format), go);
      form.addEventListener("submit", (ev) => { ev.preventDefault(); download(title.value.trim(), format.value, go); });
      const open = el("button", { type: "button", class: "gc-print-open", title: "打印/导出当前视图", "aria-expanded": "false" }, "打印/导出");
      open.addEventListener("click", () => {
        form.hidden = !form.hidden;
        open.setAttribute("aria-expanded", String(!form.hidden));
      });
      box.append(open, form);
      this.box = box;
      return box;
    }

    onRemove() { this.box.remove(); }
  }

  map.addControl(new PrintControl(), "top-right");
  const style = document.createElement("style");
  // Kept here (not viewer.css) so this file is the whole feature.
  style.textContent = `
    .gc-print .gc-print-open { width: auto; padding: 0 8px; font-size: 13px; white-space: nowrap; }
    .gc-print-form { display: grid; gap: 6px; padding: 8px; background: #fff; font-size: 13px; min-width: 200px; }
    .gc-print-form[hidden] { display: none; }
    .gc-print-form input, .gc-print-form select { width: 100%; box-sizing: border-box; }
    .gc-print button.gc-print-go { width: 100%; height: 28px; background: #1d4ed8; color: #fff; border-radius: 4px; }
    .gc-print button.gc-print-go:not(:disabled):hover { background: #1e40af; }
    .gc-print button.gc-print-go:disabled { background: #94a3b8; }`;
  document.head.append(style);
  window.gridcity.print = { printUrl, shownLayers };
})();
