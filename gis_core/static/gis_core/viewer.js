/* GridCity map viewer: MapLibre GL JS over our own vector tiles (/tiles/style.json), no web basemap.
 *
 * The layer tree comes from the catalogue (/tiles/): one checkbox per tile layer, nested by the
 * layer's `group` ("部件/公用设施" -> 部件 > 公用设施). A checkbox shows or hides every style layer
 * whose metadata names that tile layer. Clicks ask the REST API for the full record (the tiles carry
 * only what drawing needs): components -> ID card, grids -> code, level, parent and staff.
 * Everything is built with textContent, never innerHTML, so no record can inject markup. */
(function () {
  "use strict";

  const root = document.getElementById("viewer");
  const urls = {
    style: root.dataset.styleUrl,
    catalogue: root.dataset.catalogueUrl,
    component: (code) => `/api/components/${encodeURIComponent(code)}/`,
    grid: (code) => `/api/grids/${encodeURIComponent(code)}/`,
    gridSearch: (q) => `/api/grids/search/?q=${encodeURIComponent(q)}`,
    classes: "/api/classes/",
    states: "/api/states/",
    card: (code) => `/c/${encodeURIComponent(code)}`,
  };
  const COMPONENT_ID = /^\d{16,17}$/;
  const GRID_CODE = /^\d{6,15}$/;
  const CASE_NUMBER = /^20\d{12}$/; // date + serial; may also be a grid code, so a miss falls through
  const HIGHLIGHT = "gridcity-highlight";
  const statusEl = document.getElementById("status");
  const treeEl = document.getElementById("layer-tree");

  // ---- small helpers -------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function setStatus(text, isError) {
    statusEl.textContent = text || "";
    statusEl.classList.toggle("error", Boolean(isError));
  }

  // The session ended (logout elsewhere, expiry): back to the login page, then to this same view.
  function logInAgain() {
    window.location.assign(`/accounts/login/?next=${encodeURIComponent(window.location.pathname + window.location.hash)}`);
  }

  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.status === 401) { logInAgain(); throw new Error("登录已过期，请重新登录"); }
    if (r.status === 403) throw new Error("无权查看");
    if (r.status === 404) throw new Error("未找到");
    if (!r.ok) {
      let message = `请求失败 (${r.status})`;
      try { message = (await r.json()).message || message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    return r.json();
  }

  function orgName(org) {
    return org ? org.name : "—";
  }

  function bboxOf(geometry) {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    (function walk(c) {
      if (typeof c[0] === "number") {
        minX = Math.min(minX, c[0]); maxX = Math.max(maxX, c[0]);
        minY = Math.min(minY, c[1]); maxY = Math.max(maxY, c[1]);
      } else c.forEach(walk);
    })(geometry.coordinates);
    return [[minX, minY], [maxX, maxY]];
  }

  // ---- popups --------------------------------------------------------------------------------

  function fields(rows) {
    const dl = el("dl");
    for (const [label, value] of rows) dl.append(el("dt", {}, label), el("dd", {}, value === null || value === "" || value === undefined ? "—" : value));
    return dl;
  }

  // `at`: where the card opens; a report about the component is placed there (the component's own
  // point, or where a line or area component was clicked).
  function componentCard(f, at) {
    const p = f.properties;
    const incidents = window.gridcity && window.gridcity.incidents;
    return el("div", { class: "gc-card", "data-kind": "component", "data-code": f.id },
      el("h3", {}, p.class_name || "部件", " ", el("small", {}, p.name || "")),
      fields([
        ["标识码", f.id],
        ["小类", `${p.class_code} ${p.class_name}`],
        ["大类", `${p.major_code} ${p.major_name}`],
        ["主管部门", orgName(p.department)],
        ["权属单位", orgName(p.owner)],
        ["养护单位", orgName(p.maintainer)],
        ["状态", p.state_name || p.state],
        ["所在网格", p.grid_code],
        ["位置描述", p.location_desc],
      ]),
      el("a", { href: urls.card(f.id), target: "_blank", rel: "noopener" }, "部件身份证页面 »"),
      incidents && at ? incidents.componentActions(f, at) : null);
  }

  function gridCard(f) {
    const p = f.properties;
    const staff = p.staff && p.staff.length
      ? el("ul", { class: "staff" }, ...p.staff.map((s) => el("li", {}, `${s.role_name}：${s.name}`, s.phone ? ` ${s.phone}` : "")))
      : el("p", { class: "muted" }, "暂无网格人员");
    return el("div", { class: "gc-card", "data-kind": "grid", "data-code": p.code || f.id },
      el("h3", {}, p.name || "网格"),
      fields([
        ["网格编码", p.code || f.id],
        ["层级", p.level_name ? `${p.level_name}（第 ${p.level} 级）` : p.level],
        ["上级网格", p.parent_code],
        ["责任单位", orgName(p.organisation)],
        ["面积", p.area_m2 ? `${(p.area_m2 / 1e4).toFixed(2)} 公顷` : null],
      ]),
      el("h4", {}, "网格人员"), staff);
  }

  function gapCard(props) {
    return el("div", { class: "gc-card", "data-kind": "gap" },
      el("h3", {}, "网格覆盖缺口"),
      fields([
        ["上级网格", `${props.code || ""} ${props.name || ""}`],
        ["缺口面积", props.gap_area_m2 ? `${Number(props.gap_area_m2).toFixed(0)} 平方米` : null],
      ]));
  }

  let popup = null;
  function showPopup(lngLat, content) {
    if (popup) popup.remove();
    popup = new maplibregl.Popup({ maxWidth: "340px", className: "gc-popup" }).setLngLat(lngLat).setDOMContent(content).addTo(map);
    return popup;
  }

  async function openComponent(code, lngLat) {
    setStatus("正在读取部件…");
    try {
      const f = await getJSON(urls.component(code));
      const at = lngLat || f.geometry && (f.geometry.type === "Point" ? f.geometry.coordinates : bboxOf(f.geometry)[0]);
      showPopup(at, componentCard(f, at));
      setStatus("");
      return f;
    } catch (e) {
      setStatus(`部件 ${code}：${e.message}`, true);
      return null;
    }
  }

  async function openGrid(code, lngLat) {
    setStatus("正在读取网格…");
    try {
      const f = await getJSON(urls.grid(code));
      highlight(f.geometry);
      const card = gridCard(f);
      const cameras = window.gridcity.cameras;
      if (cameras && lngLat) card.append(cameras.button(lngLat)); // viewer-cameras.js
      showPopup(lngLat || map.getCenter(), card);
      setStatus("");
      return f;
    } catch (e) {
      setStatus(`网格 ${code}：${e.message}`, true);
      return null;
    }
  }

  function highlight(geometry) {
    const source = map.getSource(HIGHLIGHT);
    if (source) source.setData(geometry ? { type: "Feature", geometry, properties: {} } : { type: "FeatureCollection", features: [] });
  }

  // ---- search --------------------------------------------------------------------------------

  async function search(q) {
    q = q.trim();
    const results = document.getElementById("search-results");
    results.replaceChildren();
    if (!q) return;
    if (COMPONENT_ID.test(q)) {
      const f = await getJSON(urls.component(q)).catch((e) => { setStatus(`部件 ${q}：${e.message}`, true); });
      if (!f) return;
      const at = f.geometry.type === "Point" ? f.geometry.coordinates : bboxOf(f.geometry)[0];
      if (f.geometry.type === "Point") map.flyTo({ center: at, zoom: Math.max(map.getZoom(), 18) });
      else map.fitBounds(bboxOf(f.geometry), { padding: 60, maxZoom: 18 });
      map.once("moveend", () => showPopup(at, componentCard(f, at)));
      return;
    }
    const incidents = window.gridcity.incidents;
    if (CASE_NUMBER.test(q) && incidents && await incidents.findCase(q)) return;
    if (GRID_CODE.test(q)) {
      const f = await getJSON(urls.grid(q)).catch((e) => { setStatus(`网格 ${q}：${e.message}`, true); });
      if (!f) return;
      flyToGrid(f);
      return;
    }
    // A name: list the grids that match, each a link that flies there.
    try {
      const page = await getJSON(urls.gridSearch(q));
      const rows = page.results || page.features || page;
      if (!rows.length) { setStatus(`没有名称含“${q}”的网格`, true); return; }
      setStatus("");
      for (const g of rows.slice(0, 20)) {
        const code = g.code || (g.properties && g.properties.code);
        const name = g.name || (g.properties && g.properties.name);
        results.append(el("li", {}, el("a", {
          href: "#", onclick: (ev) => { ev.preventDefault(); getJSON(urls.grid(code)).then(flyToGrid, (e) => setStatus(e.message, true)); },
        }, `${name}`, el("small", {}, ` ${code}`))));
      }
    } catch (e) {
      setStatus(`搜索失败：${e.message}`, true);
    }
  }

  function flyToGrid(f) {
    highlight(f.geometry);
    const box = bboxOf(f.geometry);
    map.fitBounds(box, { padding: 60, maxZoom: 18 });
    map.once("moveend", () => showPopup([(box[0][0] + box[1][0]) / 2, (box[0][1] + box[1][1]) / 2], gridCard(f)));
    setStatus("");
  }

  // Coverage gaps hatched, so they read as "missing" rather than as one more coloured area. The
  // pattern is drawn here (a style can only name images, and ours has no sprite to fetch).
  function hatchGaps() {
    const size = 12;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const g = canvas.getContext("2d");
    g.fillStyle = "rgba(220, 38, 38, 0.12)";
    g.fillRect(0, 0, size, size);
    g.strokeStyle = "rgba(220, 38, 38, 0.85)";
    g.lineWidth = 1.5;
    g.beginPath();
    for (const d of [-size, 0, size]) { g.moveTo(d, size); g.lineTo(d + size, 0); }
    g.stroke();
    map.addImage("gridcity-hatch", g.getImageData(0, 0, size, size));
    for (const id of styleLayersOf.grid_gaps || []) {
      if (map.getLayer(id).type !== "fill") continue;
      map.setPaintProperty(id, "fill-pattern", "gridcity-hatch");
      map.setPaintProperty(id, "fill-opacity", 1);
    }
  }

  // ---- layer tree ----------------------------------------------------------------------------

  const styleLayersOf = {};   // tile layer id -> its style layer ids
  const tileLayerOf = {};     // style layer id -> tile layer id

  function indexStyle(style) {
    for (const layer of style.layers) {
      const id = layer.metadata && layer.metadata["gridcity:layer"];
      if (!id) continue;
      (styleLayersOf[id] = styleLayersOf[id] || []).push(layer.id);
      tileLayerOf[layer.id] = id;
    }
  }

  function swatchColour(layerId) {
    for (const styleId of styleLayersOf[layerId] || []) {
      const layer = map.getLayer(styleId);
      const prop = layer && { fill: "fill-color", line: "line-color", circle: "circle-color" }[layer.type];
      const v = prop && map.getPaintProperty(styleId, prop);
      if (typeof v === "string") return v;
    }
    return null;
  }

  function setVisible(layerId, on) {
    for (const styleId of styleLayersOf[layerId] || []) map.setLayoutProperty(styleId, "visibility", on ? "visible" : "none");
  }

  function isVisible(layerId) {
    return (styleLayersOf[layerId] || []).some((s) => map.getLayoutProperty(s, "visibility") !== "none");
  }

  function buildTree(catalogue) {
    const groups = new Map(); // path -> <ul>
    const top = el("ul", { class: "tree" });
    function groupList(path) {
      if (!path) return top;
      if (groups.has(path)) return groups.get(path);
      const parts = path.split("/");
      const parent = groupList(parts.slice(0, -1).join("/"));
      const ul = el("ul");
      const details = el("details", { open: "" }, el("summary", {}, parts[parts.length - 1]), ul);
      parent.append(el("li", { class: "group" }, details));
      groups.set(path, ul);
      return ul;
    }
    for (const layer of catalogue.layers) {
      if (!styleLayersOf[layer.id]) continue; // in the catalogue but not drawn for this user
      const colour = swatchColour(layer.id);
      const box = el("input", { type: "checkbox", "data-layer": layer.id });
      box.checked = isVisible(layer.id);
      box.addEventListener("change", () => setVisible(layer.id, box.checked));
      const item = el("li", { class: "layer", "data-layer": layer.id, "data-minzoom": layer.minzoom || 0 },
        el("label", { title: layer.title_en || "" }, box,
          el("span", { class: "swatch", style: colour ? `background:${colour}` : null }),
          layer.title_zh));
      groupList(layer.group || "").append(item);
    }
    treeEl.replaceChildren(top);
    markZoomRange();
  }

  function markZoomRange() {
    const z = map.getZoom();
    for (const li of treeEl.querySelectorAll("li.layer")) {
      li.classList.toggle("out-of-range", z < Number(li.dataset.minzoom));
    }
  }

  // ---- component filters ---------------------------------------------------------------------
  // The tiles filter on the server (query parameters the catalogue lists per layer): each source's
  // tile URLs get the parameters its layer accepts, and MapLibre reloads what it shows.

  const sourceTiles = {}; // tile layer id -> its tile URL templates as the style gave them

  async function buildFilters() {
    const [classes, states] = await Promise.all([getJSON(urls.classes), getJSON(urls.states)]);
    const classSelect = document.getElementById("filter-class");
    const majors = new Map();
    for (const c of classes.results || classes) {
      if (!majors.has(c.major_code)) {
        const group = el("optgroup", { label: `${c.major_code} ${c.major_name}` },
          el("option", { value: c.major_code }, `全部${c.major_name}`));
        majors.set(c.major_code, group);
        classSelect.append(group);
      }
      majors.get(c.major_code).append(el("option", { value: c.code }, `${c.code} ${c.name}`));
    }
    const stateSelect = document.getElementById("filter-state");
    for (const st of states.results || states) stateSelect.append(el("option", { value: st.code }, st.name));
    document.getElementById("filters").addEventListener("change", applyFilters);
  }

  function applyFilters() {
    const chosen = new FormData(document.getElementById("filters"));
    for (const layer of catalogue.layers) {
      const source = map.getSource(layer.id);
      if (!source || !source.setTiles || !sourceTiles[layer.id]) continue;
      const accepted = new Set((layer.filters || []).map((f) => f.param));
      const query = new URLSearchParams([...chosen].filter(([k, v]) => v && accepted.has(k))).toString();
      source.setTiles(sourceTiles[layer.id].map((t) => (query ? `${t}${t.includes("?") ? "&" : "?"}${query}` : t)));
    }
    const active = [...chosen].some(([, v]) => v);
    setStatus(active ? "部件已按条件筛选" : "");
  }

  // ---- the map -------------------------------------------------------------------------------

  const openedWithView = Boolean(window.location.hash);
  const map = new maplibregl.Map({
    container: "map",
    style: urls.style,
    hash: true, // the view is in the address: reload or share it
    attributionControl: false,
    // CJK is drawn by the browser's own fonts, should the style carry any text at all.
    localIdeographFontFamily: "'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
    // Tile URLs may be written relative to our own origin; the workers need them absolute. Cases
    // change by the minute: their tiles are revalidated (ETag, 304 when unchanged) instead of kept
    // for their max-age, so a step just taken shows on the map at once.
    transformRequest: (url, kind) => {
      const absolute = new URL(url, window.location.href).href;
      const live = kind === "Tile" && /\/tiles\/([^/]*,)?incidents[,/]/.test(absolute);
      return { url: absolute, credentials: "same-origin", ...(live ? { cache: "no-cache" } : {}) };
    },
    locale: {
      "Map.Title": "地图",
      "NavigationControl.ZoomIn": "放大",
      "NavigationControl.ZoomOut": "缩小",
      "NavigationControl.ResetBearing": "拖动旋转地图，点击恢复正北",
      "Popup.Close": "关闭",
      "ScaleControl.Meters": "米",
      "ScaleControl.Kilometers": "公里",
      "FullscreenControl.Enter": "全屏",
      "FullscreenControl.Exit": "退出全屏",
    },
  });
  window.gridcityMap = map; // for the browser tests and the console
  map.addControl(new maplibregl.NavigationControl({ visualizePitch: false }), "top-right");
  map.addControl(new maplibregl.FullscreenControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");

  const cataloguePromise = getJSON(urls.catalogue);
  let catalogue = { layers: [] };
  // Open on the city's own grids (the style's centre covers the whole configured district) unless
  // the address already names a view.
  const bounds = root.dataset.bounds ? JSON.parse(root.dataset.bounds) : null;

  map.on("load", async () => {
    if (bounds && !openedWithView) map.fitBounds(bounds, { padding: 20, animate: false });
    indexStyle(map.getStyle());
    hatchGaps();
    map.addSource(HIGHLIGHT, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    // Under the components and labels, over the other polygons.
    const firstPoint = map.getStyle().layers.find((l) => l.type === "circle" || l.type === "symbol");
    const below = firstPoint ? firstPoint.id : undefined;
    map.addLayer({ id: `${HIGHLIGHT}-fill`, type: "fill", source: HIGHLIGHT, paint: { "fill-color": "#ffb000", "fill-opacity": 0.15 } }, below);
    map.addLayer({ id: `${HIGHLIGHT}-line`, type: "line", source: HIGHLIGHT, paint: { "line-color": "#ff7a00", "line-width": 3 } }, below);
    for (const [id, source] of Object.entries(map.getStyle().sources)) if (source.tiles) sourceTiles[id] = source.tiles;
    try {
      catalogue = await cataloguePromise;
      buildTree(catalogue);
      await buildFilters();
      setStatus("");
      root.dataset.ready = "1";
    } catch (e) {
      setStatus(`图层目录读取失败：${e.message}`, true);
    }
  });
  map.on("zoomend", markZoomRange);
  map.on("error", (e) => {
    const status = e.error && e.error.status;
    if (status === 401) logInAgain();
    else if (status === 403) setStatus("您的账号无权查看部分图层", true);
    else if (e.error) console.warn("map error", e.error.message || e.error);
  });

  function interactiveLayers() {
    return Object.keys(tileLayerOf).filter((id) => map.getLayer(id) && map.getLayoutProperty(id, "visibility") !== "none");
  }

  function featuresAt(point) {
    const pad = 4;
    const box = [[point.x - pad, point.y - pad], [point.x + pad, point.y + pad]];
    return map.queryRenderedFeatures(box, { layers: interactiveLayers() });
  }

  map.on("mousemove", (e) => {
    map.getCanvas().style.cursor = featuresAt(e.point).length ? "pointer" : "";
  });

  map.on("click", (e) => {
    const found = featuresAt(e.point);
    // Points over polygons: a component or cluster under the cursor wins over the grid around it.
    // (Grid tiles carry one label point per grid: those are grids, never components.)
    const point = found.find((f) => (f.geometry.type === "Point" || f.geometry.type === "MultiPoint")
      && !(tileLayerOf[f.layer.id] || "").endsWith("_grids"));
    const incident = found.find((f) => tileLayerOf[f.layer.id] === "incidents" && f.properties.number);
    if (incident && window.gridcity.incidents) {
      window.gridcity.incidents.openCase(incident.properties.number);
      return;
    }
    if (window.gridcity.patrols && window.gridcity.patrols.click(e, found)) return; // tracks, stops, positions
    if (point) {
      const p = point.properties;
      if (p.cluster === true || p.cluster === "true" || p.count !== undefined && !p.code) {
        map.easeTo({ center: point.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, map.getMaxZoom()) });
        return;
      }
      if (p.code) openComponent(p.code, point.geometry.coordinates);
      return;
    }
    // Then a line or area component, then a coverage gap, then the finest grid level under the cursor.
    const of = (f) => tileLayerOf[f.layer.id] || "";
    const component = found.find((f) => of(f).startsWith("components") && f.properties.code && !f.properties.count);
    if (component) { openComponent(component.properties.code, e.lngLat); return; }
    const gap = found.find((f) => of(f) === "grid_gaps");
    if (gap) { highlight(gap.geometry); showPopup(e.lngLat, gapCard(gap.properties)); return; }
    const grids = found.filter((f) => of(f).endsWith("_grids")).sort((a, b) => b.properties.level - a.properties.level);
    if (grids.length) openGrid(grids[0].properties.code, e.lngLat);
    else if (window.gridcity.cameras) { highlight(null); window.gridcity.cameras.openSeeing(e.lngLat); }
    else { highlight(null); if (popup) popup.remove(); }
  });

  document.getElementById("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    search(document.getElementById("q").value);
  });

  // Test and console hooks: what a click on a feature would do, without needing its pixel.
  // The incidents panel (viewer-incidents.js) builds on the same helpers.
  window.gridcity = {
    openComponent, openGrid, search, setVisible, styleLayersOf, applyFilters,
    el, fields, getJSON, setStatus, logInAgain, showPopup, map, orgName,
    closePopup: () => { if (popup) popup.remove(); },
  };
})();
