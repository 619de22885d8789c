/* The viewer's frame on phones and for people in the field.
 *
 * Phones (max-width 640px): the map fills the screen above the panel's tab bar (地图 事件 巡查); the
 * panel is docked at the bottom, folded to that bar until a tab, the toggle button, or a case or patrol
 * opened from elsewhere opens it; cards open as a bottom sheet that scrolls and expands. The open panel
 * and the sheet take turns: each closes the other. Desktops keep the side panel and popups.
 * Everywhere: 定位 (where am I, from the browser's geolocation) and 我的网格 (the grid I stand in, from
 * /api/grids/locate/, with its card). The browser gives WGS 84 (EPSG:4326); the server converts.
 *
 * Loaded before viewer.js (which asks gridcityFrame whether to use the sheet) and wired to the map
 * once viewer.js has made it. */
(function () {
  "use strict";

  const phoneQuery = window.matchMedia("(max-width: 640px)");
  const panel = document.getElementById("panel");
  const toggle = document.getElementById("panel-toggle");
  const sheet = document.getElementById("sheet");
  const sheetBody = document.getElementById("sheet-body");
  const sheetSize = document.getElementById("sheet-size");

  function isPhone() {
    return phoneQuery.matches;
  }

  function setPanelOpen(open) {
    panel.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.textContent = open ? "✕ 收起" : "☰ 面板";
    // The open panel covers where the sheet sits: a card about the map gives way to the panel.
    if (open && isPhone() && !sheet.hidden && window.gridcity) window.gridcity.closePopup();
  }

  toggle.addEventListener("click", () => setPanelOpen(!panel.classList.contains("open")));

  // A tab opens the panel, whether tapped or chosen by code (a case opened from the map or the search
  // box selects 事件, a worker's track selects 巡查): what it shows is in the panel, so the panel must show.
  const tabs = document.getElementById("tabs");
  const selectedTab = () => tabs.querySelector("[role=tab][aria-selected=true]");
  tabs.addEventListener("click", (e) => { if (isPhone() && e.target.closest("[role=tab]")) setPanelOpen(true); });
  new MutationObserver((records) => {
    if (!isPhone()) return;
    if (records.some((r) => r.target.getAttribute("aria-selected") === "true" && r.oldValue !== "true")) setPanelOpen(true);
  }).observe(tabs, { subtree: true, attributes: true, attributeFilter: ["aria-selected"], attributeOldValue: true });

  function showSheet(content) {
    sheetBody.replaceChildren(content);
    sheet.hidden = false;
    sheet.scrollTop = 0;
    setPanelOpen(false); // the card is about the map: show the map
  }

  function hideSheet() {
    sheet.hidden = true;
    sheet.classList.remove("expanded");
    sheetSize.setAttribute("aria-expanded", "false");
    sheetBody.replaceChildren();
  }

  sheetSize.addEventListener("click", () => {
    const expanded = sheet.classList.toggle("expanded");
    sheetSize.setAttribute("aria-expanded", expanded ? "true" : "false");
    sheetSize.textContent = expanded ? "收起" : "展开";
  });
  document.getElementById("sheet-close").addEventListener("click", () => window.gridcity.closePopup());

  // Dragging the sheet's bar up expands it, down collapses it (or closes it from the small size).
  let dragFrom = null;
  const bar = sheet.querySelector(".sheet-bar");
  bar.addEventListener("pointerdown", (e) => { dragFrom = e.clientY; });
  window.addEventListener("pointerup", (e) => {
    if (dragFrom === null) return;
    const dy = e.clientY - dragFrom;
    dragFrom = null;
    if (dy < -40 && !sheet.classList.contains("expanded")) sheetSize.click();
    else if (dy > 40 && sheet.classList.contains("expanded")) sheetSize.click();
    else if (dy > 40) window.gridcity.closePopup();
  });

  // ---- where am I ----------------------------------------------------------------------------

  function position() {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(new Error("此浏览器不支持定位")); return; }
      navigator.geolocation.getCurrentPosition(
        (p) => resolve([p.coords.longitude, p.coords.latitude]),
        (e) => reject(new Error(e.code === 1 ? "未允许定位，请在浏览器设置中允许" : "暂时无法获取位置")),
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
  }

  const HERE = "gridcity-here";
  function showHere(map, lonLat) {
    const data = { type: "Feature", geometry: { type: "Point", coordinates: lonLat }, properties: {} };
    if (map.getSource(HERE)) { map.getSource(HERE).setData(data); return; }
    map.addSource(HERE, { type: "geojson", data });
    map.addLayer({ id: HERE, type: "circle", source: HERE,
      paint: { "circle-radius": 7, "circle-color": "#1d4ed8", "circle-stroke-color": "#ffffff", "circle-stroke-width": 3 } });
  }

  async function locateMe() {
    const g = window.gridcity;
    g.setStatus("正在定位…");
    try {
      const at = await position();
      showHere(g.map, at);
      g.map.flyTo({ center: at, zoom: Math.max(g.map.getZoom(), 17) });
      g.setStatus("已定位到您的位置");
      return at;
    } catch (e) {
      g.setStatus(`定位失败：${e.message}`, true);
      return null;
    }
  }

  async function myGrid() {
    const g = window.gridcity;
    g.setStatus("正在查找您所在的网格…");
    let at;
    try {
      at = await position();
    } catch (e) {
      g.setStatus(`定位失败：${e.message}`, true);
      return null;
    }
    showHere(g.map, at);
    try {
      const found = await g.getJSON(`${g.urls.locate(at[0], at[1])}&crs=EPSG:4326`);
      const grids = found.grids || [];
      const code = found.base_grid || (grids.length ? (grids[grids.length - 1].properties || {}).code || grids[grids.length - 1].id : null);
      if (!code) { g.closePopup(); g.setStatus("您所在的位置不在任何网格内", true); return null; }
      g.setStatus("");
      g.flyToGrid(await g.getJSON(g.urls.grid(code)));
      return code;
    } catch (e) {
      g.setStatus(`查找网格失败：${e.message}`, true);
      return null;
    }
  }

  // A MapLibre control: two buttons under the zoom buttons.
  class WhereAmI {
    onAdd() {
      const button = (id, text, title, run) => {
        const b = document.createElement("button");
        b.type = "button"; b.id = id; b.title = title; b.setAttribute("aria-label", title); b.textContent = text;
        b.addEventListener("click", run);
        return b;
      };
      this.box = document.createElement("div");
      this.box.className = "maplibregl-ctrl maplibregl-ctrl-group gc-where";
      this.box.append(button("locate-me", "◎", "定位到我的位置", locateMe), button("my-grid", "我的网格", "我所在的网格", myGrid));
      return this.box;
    }

    onRemove() {
      this.box.remove();
    }
  }

  function attach(map) {
    map.addControl(new WhereAmI(), "top-right");
    // A window narrowed to a phone's width keeps a task it had open in the panel (事件, 巡查) in sight
    // and otherwise shows the map; widened, the side panel and popups are back.
    phoneQuery.addEventListener("change", () => {
      if (!isPhone()) { setPanelOpen(false); hideSheet(); return; }
      const tab = selectedTab();
      setPanelOpen(Boolean(tab) && tab.id !== "tab-map-button");
    });
  }

  window.gridcityFrame = { isPhone, showSheet, hideSheet, setPanelOpen, attach, locateMe, myGrid };
})();
