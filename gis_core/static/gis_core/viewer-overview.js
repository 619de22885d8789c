/* Overview map (鹰眼): a small second map in a corner showing the district and street grids at a
 * coarser zoom, with the main map's view drawn as a rectangle; a click there moves the main map.
 * Its style is the main style cut down to the district and street grid layers (the same tiles, so
 * nothing new is fetched from elsewhere). Hidden on narrow screens, where every pixel is map, and
 * folded with its own button. */
(function () {
  "use strict";

  const g = window.gridcity;
  if (!g || !window.maplibregl) return;
  const { map } = g;
  const root = document.getElementById("viewer");
  const KEEP = new Set(["district_grids", "street_grids"]);
  const ZOOM_OUT = 4;

  const box = document.createElement("div");
  box.id = "overview";
  box.setAttribute("aria-label", "鹰眼图");
  const canvasHolder = document.createElement("div");
  canvasHolder.id = "overview-map";
  const fold = document.createElement("button");
  fold.type = "button";
  fold.id = "overview-fold";
  fold.title = "收起/展开鹰眼图";
  fold.textContent = "鹰眼";
  box.append(canvasHolder, fold);
  // A map control in the bottom-right corner, so it moves with that corner (above the patrol
  // playback bar when one shows, viewer-patrols.css) instead of lying over it.
  box.className = "maplibregl-ctrl";
  map.addControl({ onAdd: () => box, onRemove: () => box.remove() }, "bottom-right");

  const css = document.createElement("style");
  css.textContent = `
    #overview { position: relative; background: #fff;
      border: 1px solid #94a3b8; box-shadow: 0 1px 4px rgba(0,0,0,.25); }
    #overview-map { width: 180px; height: 130px; }
    #overview.folded #overview-map { display: none; }
    #overview-fold { position: absolute; left: 0; top: 0; font-size: 11px; padding: 0 4px;
      border: 0; background: rgba(255,255,255,.85); cursor: pointer; }
    #overview.folded #overview-fold { position: static; }
    @media (max-width: 600px) { #overview { display: none; } }`;
  document.head.appendChild(css);
  fold.addEventListener("click", () => box.classList.toggle("folded"));

  function viewRing() {
    const b = map.getBounds();
    const ring = [
      [b.getWest(), b.getSouth()], [b.getEast(), b.getSouth()], [b.getEast(), b.getNorth()],
      [b.getWest(), b.getNorth()], [b.getWest(), b.getSouth()],
    ];
    return { type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [ring] } };
  }

  function start(style) {
    // Fills and outlines only: at this size labels would be noise, and they would need glyphs.
    const layers = style.layers.filter(
      (l) => l.type === "background"
        || (KEEP.has((l.metadata || {})["gridcity:layer"]) && (l.type === "fill" || l.type === "line")),
    );
    const used = new Set(layers.map((l) => l.source).filter(Boolean));
    const sources = Object.fromEntries(Object.entries(style.sources).filter(([id]) => used.has(id)));
    sources.overview_view = { type: "geojson", data: viewRing() };
    layers.push(
      { id: "overview_view_fill", type: "fill", source: "overview_view", paint: { "fill-color": "#dc2626", "fill-opacity": 0.12 } },
      { id: "overview_view_line", type: "line", source: "overview_view", paint: { "line-color": "#dc2626", "line-width": 1.5 } },
    );
    const small = new maplibregl.Map({
      container: canvasHolder,
      style: { version: 8, sources, layers },
      center: map.getCenter(),
      zoom: Math.max(0, map.getZoom() - ZOOM_OUT),
      interactive: false,
      attributionControl: false,
    });
    function follow() {
      small.jumpTo({ center: map.getCenter(), zoom: Math.max(0, map.getZoom() - ZOOM_OUT) });
      const src = small.getSource("overview_view");
      g.overviewView = viewRing(); // the rectangle drawn, for the tests
      if (src) src.setData(g.overviewView);
    }
    map.on("moveend", follow);
    small.getCanvas().style.cursor = "pointer";
    small.getCanvas().addEventListener("click", (e) => {
      const r = small.getCanvas().getBoundingClientRect();
      const at = small.unproject([e.clientX - r.left, e.clientY - r.top]);
      map.flyTo({ center: at });
    });
    small.on("load", () => { box.dataset.ready = "1"; follow(); });
    g.overviewMap = small;
  }

  fetch(root.dataset.styleUrl, { credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`style ${r.status}`))))
    .then(start)
    .catch(() => { box.remove(); });
})();
