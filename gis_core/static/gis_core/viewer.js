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
    search: (q) => `/api/search/?q=${encodeURIComponent(q)}`,
    classes: "/api/classes/",
    states: "/api/states/",
    organisations: "/api/components/organisations/",
    components: (query) => `/api/components/?${query}`,
    locate: (lon, lat) => `/api/grids/locate/?lon=${lon}&lat=${lat}`,
    session: "/api/session/",
    card: (code) => `/c/${encodeURIComponent(code)}`,
  };
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

  // The session ended (logout elsewhere, expiry): say so, forget the user's name in the header, and go
  // to the login page, which brings the user back to this same view (query: filters, card; hash: map).
  let leaving = false;
  function logInAgain() {
    if (leaving) return;
    leaving = true;
    setStatus("登录已过期，正在转到登录页…", true);
    const name = document.getElementById("user-name");
    if (name) name.textContent = "";
    const here = window.location.pathname + window.location.search + window.location.hash;
    window.setTimeout(() => window.location.assign(`/accounts/login/?next=${encodeURIComponent(here)}&expired=1`), 800);
  }

  // A refused API call is either an ended session or a missing permission: the session endpoint tells.
  async function sessionEnded() {
    try {
      const r = await fetch(urls.session, { credentials: "same-origin", headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" } });
      return r.ok && (await r.json()).authenticated === false;
    } catch (e) {
      return false; // offline: not a reason to log out
    }
  }

  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" } });
    if ((r.status === 401 || r.status === 403) && await sessionEnded()) {
      logInAgain();
      throw new Error("登录已过期，请重新登录");
    }
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

  // A unit with its phone (a dispatcher calls it from the card), as a tel: link when there is one.
  function orgWithPhone(org) {
    if (!org) return "—";
    if (!org.phone) return org.name;
    return el("span", {}, org.name, " ", el("a", { href: `tel:${org.phone.replace(/[^0-9+]/g, "")}`, class: "phone" }, org.phone));
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
        ["主管部门", orgWithPhone(p.department)],
        ["权属单位", orgWithPhone(p.owner)],
        ["养护单位", orgWithPhone(p.maintainer)],
        ["状态", p.state_name || p.state],
        ["所在网格", gridLink(p.grid || (p.grid_code ? { code: p.grid_code } : null))],
        ["位置描述", p.location_desc],
        // The class's own attributes (杆高, 光源, 功率 for a streetlight), as the API labels them.
        ...(p.attribute_rows || []).map((r) => [r.label, r.value === null || r.value === undefined ? "—" : String(r.value)]),
      ]),
      el("a", { href: urls.card(f.id), target: "_blank", rel: "noopener" }, "部件身份证页面 »"),
      incidents && at ? incidents.componentActions(f, at) : null);
  }

  function gridLink(grid) {
    if (!grid || !grid.code) return "—";
    return el("a", { href: "#", class: "grid-link", "data-grid": grid.code,
      onclick: (e) => { e.preventDefault(); openGrid(grid.code); } }, grid.name || grid.code);
  }

  // The grid's parent by name and its live components by class and state (GET /api/grids/{code}/summary/),
  // filled in when the answer comes; the card is shown at once.
  async function fillGridSummary(card, code) {
    const slot = card.querySelector(".grid-summary");
    try {
      const s = await getJSON(`/api/grids/${encodeURIComponent(code)}/summary/`);
      const parent = card.querySelector("[data-field=parent]");
      if (parent && s.parent) {
        parent.replaceChildren(s.parent.name ? gridLink(s.parent) : document.createTextNode(s.parent.code));
      }
      const c = s.components || {};
      slot.replaceChildren(
        el("h4", {}, `部件（${c.total || 0} 个）`),
        el("ul", { class: "counts by-class" }, ...(c.by_class || []).map((k) => el("li", {}, `${k.class_name}：${k.count}`))),
        el("ul", { class: "counts by-state" }, ...(c.by_state || []).map((k) => el("li", {}, `${k.state_name}：${k.count}`))));
    } catch (err) {
      slot.replaceChildren(el("p", { class: "muted" }, `部件统计：${err.message}`));
    }
  }

  function gridCard(f) {
    const p = f.properties;
    const staff = p.staff && p.staff.length
      ? el("ul", { class: "staff" }, ...p.staff.map((s) => el("li", {}, `${s.role_name}：${s.name}`, s.phone ? ` ${s.phone}` : "")))
      : el("p", { class: "muted" }, "暂无网格人员");
    const card = el("div", { class: "gc-card", "data-kind": "grid", "data-code": p.code || f.id },
      el("h3", {}, p.name || "网格"),
      fields([
        ["网格编码", p.code || f.id],
        ["层级", p.level_name ? `${p.level_name}（第 ${p.level} 级）` : p.level],
        ["上级网格", p.parent_code ? el("span", { "data-field": "parent" }, p.parent_code) : null],
        ["责任单位", orgName(p.organisation)],
        ["面积", p.area_m2 ? `${(p.area_m2 / 1e4).toFixed(2)} 公顷` : null],
      ]),
      el("h4", {}, "网格人员"), staff,
      el("div", { class: "grid-summary" }, el("p", { class: "muted" }, "正在统计部件…")));
    fillGridSummary(card, p.code || f.id);
    return card;
  }

  function gapCard(props) {
    return el("div", { class: "gc-card", "data-kind": "gap" },
      el("h3", {}, "网格覆盖缺口"),
      fields([
        ["上级网格", `${props.code || ""} ${props.name || ""}`],
        ["缺口面积", props.gap_area_m2 ? `${Number(props.gap_area_m2).toFixed(0)} 平方米` : null],
      ]));
  }

  // Cards: a popup at the feature on a desktop, a bottom sheet on a phone (viewer-frame.js).
  let popup = null;
  function showPopup(lngLat, content) {
    if (popup) popup.remove();
    popup = null;
    const frame = window.gridcityFrame;
    if (frame && frame.isPhone()) {
      frame.showSheet(content);
      if (lngLat) marker(lngLat);
    } else {
      popup = new maplibregl.Popup({ maxWidth: "340px", className: "gc-popup" }).setLngLat(lngLat).setDOMContent(content).addTo(map);
      popup.on("close", () => { if (popup && !popup.isOpen()) cardClosed(); });
    }
    noteCard(content);
    return popup;
  }

  function closePopup() {
    if (popup) popup.remove();
    popup = null;
    if (window.gridcityFrame) window.gridcityFrame.hideSheet();
    cardClosed();
  }

  // The open card goes into the address (?card=c:<ID> / g:<code>) so a reload or a link reopens it.
  function noteCard(content) {
    const card = content && content.querySelector ? (content.matches(".gc-card") ? content : content.querySelector(".gc-card")) : null;
    const kind = card && { component: "c", grid: "g" }[card.dataset.kind];
    writeState({ card: kind && card.dataset.code ? `${kind}:${card.dataset.code}` : null });
  }

  function cardClosed() {
    writeState({ card: null });
  }

  // The clicked point, ringed, so it stays findable under the card.
  function marker(lngLat) {
    const source = map.getSource(`${HIGHLIGHT}-point`);
    if (source) source.setData({ type: "Feature", geometry: { type: "Point", coordinates: Array.isArray(lngLat) ? lngLat : [lngLat.lng, lngLat.lat] }, properties: {} });
  }

  async function openComponent(code, lngLat) {
    setStatus("正在读取部件…");
    try {
      const f = await getJSON(urls.component(code));
      const at = lngLat || f.geometry && (f.geometry.type === "Point" ? f.geometry.coordinates : bboxOf(f.geometry)[0]);
      showPopup(at, componentCard(f, at));
      marker(at);
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
    const empty = { type: "FeatureCollection", features: [] };
    const source = map.getSource(HIGHLIGHT);
    if (source) source.setData(geometry ? { type: "Feature", geometry, properties: {} } : empty);
    const point = map.getSource(`${HIGHLIGHT}-point`);
    if (point && !geometry) point.setData(empty);
  }

  // ---- going to a feature (search results, links, the address) ----------------------------------
  // A fly-to marks the map busy until it lands; then the card opens.

  function busy(on) {
    root.classList.toggle("busy", on);
    document.getElementById("map").setAttribute("aria-busy", on ? "true" : "false");
  }

  function landThen(open) {
    busy(true);
    map.once("moveend", () => { busy(false); open(); });
  }

  function flyToComponent(f) {
    const at = f.geometry.type === "Point" ? f.geometry.coordinates : bboxOf(f.geometry)[0];
    landThen(() => { showPopup(at, componentCard(f, at)); marker(at); });
    if (f.geometry.type === "Point") map.flyTo({ center: at, zoom: Math.max(map.getZoom(), 18) });
    else map.fitBounds(bboxOf(f.geometry), { padding: 60, maxZoom: 18 });
  }

  function flyToGrid(f) {
    highlight(f.geometry);
    const box = bboxOf(f.geometry);
    landThen(() => showPopup([(box[0][0] + box[1][0]) / 2, (box[0][1] + box[1][1]) / 2], gridCard(f)));
    map.fitBounds(box, { padding: 60, maxZoom: 18 });
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
    refreshSources(); // a grouped source asks for the layers that are on, and only those
    root.dispatchEvent(new CustomEvent("gridcity:layers", { detail: { layer: layerId, on } }));
  }

  function isVisible(layerId) {
    return (styleLayersOf[layerId] || []).some((s) => map.getLayoutProperty(s, "visibility") !== "none");
  }

  // Layer opacity: each paint opacity of the layer's style layers, scaled from the style's own value
  // (remembered the first time), so 100 % gives back exactly what the catalogue's style says.
  const OPACITY = { fill: ["fill-opacity"], line: ["line-opacity"], circle: ["circle-opacity", "circle-stroke-opacity"],
    symbol: ["text-opacity", "icon-opacity"], raster: ["raster-opacity"], heatmap: ["heatmap-opacity"], "fill-extrusion": ["fill-extrusion-opacity"] };
  const styleOpacity = {}; // "style layer|property" -> the style's value (undefined: the default, 1)
  function setOpacity(layerId, factor) {
    for (const styleId of styleLayersOf[layerId] || []) {
      const layer = map.getLayer(styleId);
      if (!layer) continue;
      for (const prop of OPACITY[layer.type] || []) {
        const key = `${styleId}|${prop}`;
        if (!(key in styleOpacity)) styleOpacity[key] = map.getPaintProperty(styleId, prop);
        const own = styleOpacity[key];
        let value;
        if (own === undefined || typeof own === "number") value = (own === undefined ? 1 : own) * factor;
        // A zoom expression must stay at the top of its expression: scaling it is not allowed, so it gives way.
        else value = JSON.stringify(own).includes('"zoom"') ? factor : ["*", factor, own];
        map.setPaintProperty(styleId, prop, factor === 1 ? own : value);
      }
    }
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
      const opacity = el("input", { type: "range", class: "opacity", min: 10, max: 100, step: 10, value: 100,
        "data-opacity-of": layer.id, title: "不透明度 100%", "aria-label": `${layer.title_zh} 不透明度` });
      opacity.addEventListener("input", () => {
        setOpacity(layer.id, Number(opacity.value) / 100);
        opacity.title = `不透明度 ${opacity.value}%`;
      });
      const item = el("li", { class: "layer", "data-layer": layer.id, "data-minzoom": layer.minzoom || 0 },
        el("label", { title: layer.title_en || "" }, box,
          el("span", { class: "swatch", style: colour ? `background:${colour}` : null }),
          layer.title_zh), opacity);
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

  // ---- component filters and the address ----------------------------------------------------
  // The tiles filter on the server (query parameters the catalogue lists per layer): each source's
  // tile URLs get the parameters its layers accept, and MapLibre reloads what it shows. The filters and
  // the open card live in the address's query (?class=&state=&owner=&maintainer=&card=), the map view in
  // its hash (#zoom/lat/lon, MapLibre's): a reload or a shared link restores both.

  const sourceTiles = {}; // single-layer source id -> its tile URL templates as the style gave them
  const FILTER_PARAMS = ["class", "state", "owner", "maintainer"];
  const labels = {}; // class, major class and state codes -> names (the legend reads them too)
  const startState = new URLSearchParams(window.location.search);

  function writeState(changes) {
    const params = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v) params.set(k, v); else params.delete(k);
    }
    const query = params.toString();
    const url = window.location.pathname + (query ? `?${query}` : "") + window.location.hash;
    window.history.replaceState(window.history.state, "", url);
  }

  // One option per class, in one scheme: a GB/T 30428 class carries the GB/T 47678 classes it maps to
  // (0118 路灯 -> 01037), so the tiles match components registered under either code; new classes with
  // no older one are offered on their own. (Offering both schemes side by side gave an empty map for
  // whichever code the components were not registered under.)
  function classOptions(classes) {
    const mappedTo = new Set();
    for (const c of classes) for (const t of c.maps_to || []) mappedTo.add(t);
    const byMajor = new Map();
    for (const c of classes) {
      labels[c.code] = c.name;
      labels[c.major_code] = c.major_name;
      if (mappedTo.has(c.code)) continue; // offered under its older code
      if (!byMajor.has(c.major_code)) byMajor.set(c.major_code, { name: c.major_name, rows: [] });
      byMajor.get(c.major_code).rows.push({ value: [c.code, ...(c.maps_to || [])].join(","), text: `${c.code} ${c.name}` });
    }
    return [...byMajor.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  async function buildFilters() {
    const [classes, states, organisations] = await Promise.all([
      getJSON(urls.classes), getJSON(urls.states), getJSON(urls.organisations).catch(() => ({})),
    ]);
    const classSelect = document.getElementById("filter-class");
    for (const [major, { name, rows }] of classOptions(classes.results || classes)) {
      classSelect.append(el("optgroup", { label: `${major} ${name}` },
        el("option", { value: major }, `全部${name}`),
        ...rows.map((r) => el("option", { value: r.value }, r.text))));
    }
    const stateSelect = document.getElementById("filter-state");
    for (const st of states.results || states) {
      labels[st.code] = st.name;
      stateSelect.append(el("option", { value: st.code }, st.name));
    }
    // The owners and maintenance units of the components this user sees (names, not codes).
    for (const [id, key] of [["filter-owner", "owners"], ["filter-maintainer", "maintainers"]]) {
      const select = document.getElementById(id);
      for (const o of organisations[key] || []) select.append(el("option", { value: o.uscc }, o.name));
    }
    // The address's filters, once the options exist (an unknown value is dropped, not kept half-set).
    for (const param of FILTER_PARAMS) {
      const select = document.getElementById(`filter-${param}`);
      const wanted = startState.get(param);
      if (select && wanted && [...select.options].some((o) => o.value === wanted)) select.value = wanted;
    }
    document.getElementById("filters").addEventListener("change", applyFilters);
    applyFilters();
  }

  function chosenFilters() {
    return [...new FormData(document.getElementById("filters"))].filter(([k, v]) => v && FILTER_PARAMS.includes(k));
  }

  function queryFor(layerIds, chosen) {
    const accepted = new Set();
    for (const layer of catalogue.layers) {
      if (layerIds.includes(layer.id)) for (const f of layer.filters || []) accepted.add(f.param);
    }
    return new URLSearchParams(chosen.filter(([k]) => accepted.has(k))).toString();
  }

  function refreshSources() {
    const chosen = chosenFilters();
    window.gridcityTiles.refresh(map, isVisible, (ids) => queryFor(ids, chosen));
    for (const [id, templates] of Object.entries(sourceTiles)) {
      const source = map.getSource(id);
      if (!source || !source.setTiles) continue;
      const query = queryFor([id], chosen);
      source.setTiles(templates.map((t) => (query ? `${t}${t.includes("?") ? "&" : "?"}${query}` : t)));
    }
  }

  let countAsked = 0;
  async function applyFilters() {
    const chosen = chosenFilters();
    refreshSources();
    writeState(Object.fromEntries(FILTER_PARAMS.map((p) => [p, (chosen.find(([k]) => k === p) || [])[1]])));
    const countEl = document.getElementById("filter-count");
    const ask = ++countAsked;
    if (!chosen.length) { if (countEl) countEl.textContent = ""; return; }
    // The count from the component list (a 2-digit class value is a major class there).
    const params = new URLSearchParams([["page_size", "1"]]);
    for (const [k, v] of chosen) params.set(k === "class" && /^\d{2}$/.test(v) ? "major" : k, v);
    if (countEl) countEl.textContent = "正在统计…";
    try {
      const page = await getJSON(urls.components(params.toString()));
      if (ask === countAsked && countEl) countEl.textContent = `符合条件的部件：${page.count} 个`;
    } catch (e) {
      if (ask === countAsked && countEl) countEl.textContent = `统计失败：${e.message}`;
    }
  }

  // ---- the map -------------------------------------------------------------------------------

  const openedWithView = Boolean(window.location.hash);
  const IDEOGRAPHS = "'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
  const map = new maplibregl.Map({
    container: "map",
    hash: true, // the view is in the address: reload or share it
    attributionControl: false,
    // CJK is drawn by the browser's own fonts, should the style carry any text at all.
    localIdeographFontFamily: IDEOGRAPHS,
    // Tile URLs may be written relative to our own origin; the workers need them absolute. Cases
    // change by the minute: their tiles are revalidated (ETag, 304 when unchanged) instead of kept
    // for their max-age, so a step just taken shows on the map at once.
    transformRequest: (url, kind) => {
      const absolute = new URL(url, window.location.href).href;
      const live = kind === "Tile" && /\/tiles\/([^/]*,)?incidents[,/]/.test(absolute);
      // Marked as the viewer's own request: an ended session gets 401 without a password dialog.
      const headers = absolute.startsWith(window.location.origin) ? { "X-Requested-With": "XMLHttpRequest" } : undefined;
      return { url: absolute, credentials: "same-origin", headers, ...(live ? { cache: "no-cache" } : {}) };
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
  // The style's per-layer sources merged into combined-tile sources (viewer-tiles.js) before it is used.
  map.setStyle(urls.style, { localIdeographFontFamily: IDEOGRAPHS, transformStyle: (previous, next) => window.gridcityTiles.group(next) });
  map.addControl(new maplibregl.NavigationControl({ visualizePitch: false }), "top-right");
  map.addControl(new maplibregl.FullscreenControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  if (window.gridcityFrame) window.gridcityFrame.attach(map); // 定位, 我的网格 (viewer-frame.js)

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
    for (const [id, source] of Object.entries(map.getStyle().sources)) {
      if (source.tiles && !window.gridcityTiles.groups[id]) sourceTiles[id] = source.tiles;
    }
    map.addSource(`${HIGHLIGHT}-point`, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: `${HIGHLIGHT}-ring`, type: "circle", source: `${HIGHLIGHT}-point`,
      paint: { "circle-radius": 11, "circle-color": "rgba(255, 176, 0, 0.25)", "circle-stroke-color": "#ff7a00", "circle-stroke-width": 3 } });
    try {
      catalogue = await cataloguePromise;
      buildTree(catalogue);
      await buildFilters();
      setStatus("");
      reopenCard();
      root.dataset.ready = "1";
      root.dispatchEvent(new CustomEvent("gridcity:ready"));
    } catch (e) {
      setStatus(`图层目录读取失败：${e.message}`, true);
    }
  });
  map.on("zoomend", markZoomRange);
  map.on("error", (e) => {
    const status = e.error && e.error.status;
    if (status === 401) logInAgain();
    else if (status === 403) sessionEnded().then((ended) => (ended ? logInAgain() : setStatus("您的账号无权查看部分图层", true)));
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
    if (window.gridcity.tools && window.gridcity.tools.measuring()) return; // a measure's vertex (viewer-tools.js)
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
    else { highlight(null); closePopup(); }
  });

  // The card named in the address (?card=c:<ID> or g:<code>), over the view the hash names.
  function reopenCard() {
    const [kind, code] = (startState.get("card") || "").split(":");
    if (kind === "c" && code) openComponent(code);
    else if (kind === "g" && code) openGrid(code);
  }

  // Test and console hooks: what a click on a feature would do, without needing its pixel.
  // The incidents panel (viewer-incidents.js) builds on the same helpers.
  window.gridcity = {
    openComponent, openGrid, setVisible, isVisible, setOpacity, styleLayersOf, applyFilters, urls, labels, catalogue: () => catalogue,
    el, fields, getJSON, setStatus, logInAgain, showPopup, closePopup, map, orgName, highlight,
    flyToComponent, flyToGrid, busy, componentCard, gridCard,
  };
})();
