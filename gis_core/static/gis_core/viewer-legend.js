/* The legend, generated from the style the map draws (which the catalogue generates): for each layer
 * that is on, its symbols. A plain colour is one row titled with the layer; a `match` on a property
 * (["match", ["get", "major_code"], "01", "#2563eb", ..., default]) becomes one row per value, named
 * from the class and state tables the viewer already reads (gridcity.labels) or from a layer's own
 * `legend` in the catalogue ({value: label}); `case`/`step` expressions show their first colour. */
(function () {
  "use strict";

  const g = window.gridcity;
  const root = document.getElementById("viewer");
  const legendEl = document.getElementById("legend");
  if (!legendEl) return;
  const COLOUR = { fill: "fill-color", line: "line-color", circle: "circle-color", symbol: "text-color" };

  function swatch(type, colour) {
    return g.el("span", { class: `legend-swatch ${type}`, style: `--c:${colour}` });
  }

  // [[value or null, colour]] of a paint value.
  function colourRows(value) {
    if (typeof value === "string") return [[null, value]];
    if (!Array.isArray(value)) return [];
    if (value[0] === "match") {
      const rows = [];
      for (let i = 2; i + 1 < value.length; i += 2) {
        for (const v of [].concat(value[i])) if (typeof value[i + 1] === "string") rows.push([String(v), value[i + 1]]);
      }
      if (typeof value[value.length - 1] === "string") rows.push(["", value[value.length - 1]]);
      return rows;
    }
    const first = value.find((v) => typeof v === "string" && /^(#|rgb|hsl)/.test(v));
    return first ? [[null, first]] : [];
  }

  function labelOf(layer, value) {
    if (value === "") return "其他";
    const own = layer && layer.legend && layer.legend[value];
    return own || g.labels[value] || value;
  }

  function build() {
    const catalogue = g.catalogue();
    const rows = [];
    for (const layer of catalogue.layers || []) {
      if (!g.styleLayersOf[layer.id] || !g.isVisible(layer.id)) continue;
      const seen = new Set();
      const items = [];
      for (const styleId of g.styleLayersOf[layer.id]) {
        const styleLayer = g.map.getLayer(styleId);
        const prop = styleLayer && COLOUR[styleLayer.type];
        if (!prop) continue;
        for (const [value, colour] of colourRows(g.map.getPaintProperty(styleId, prop))) {
          const key = `${value}|${colour}`;
          if (seen.has(key) || (value !== null && [...seen].some((k) => k.startsWith(`${value}|`)))) continue;
          seen.add(key);
          const type = value === null ? styleLayer.type : "circle";
          items.push(g.el("li", { "data-value": value === null ? "" : value }, swatch(type, colour), value === null ? layer.title_zh : labelOf(layer, value)));
        }
      }
      if (items.length) rows.push(g.el("li", { class: "legend-layer", "data-layer": layer.id }, g.el("strong", {}, layer.title_zh), g.el("ul", {}, ...items)));
    }
    legendEl.replaceChildren(rows.length ? g.el("ul", { class: "legend" }, ...rows) : g.el("p", { class: "muted" }, "未显示任何图层"));
  }

  root.addEventListener("gridcity:ready", build);
  root.addEventListener("gridcity:layers", () => window.requestAnimationFrame(build));
  g.buildLegend = build;
})();
