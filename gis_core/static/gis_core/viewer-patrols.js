/* The viewer's 巡查 tab: the grid workers who walked a track on a day, a worker's day card, the
 * playback of that day (a moving marker and the track drawn so far, at 1x-64x real time, with pause,
 * a scrub slider, and the stops as map markers and slider ticks), and the live last-known positions.
 *
 * Reads only: /api/patrols/days/{date}/workers/, /api/patrols/workers/{username}/days/{date}/ and
 * /api/patrols/positions/; the server decides whose patrols this user may see. Built with
 * textContent only (see viewer.js).
 *
 * Live positions are polled as GeoJSON (one small request every 5 s, answered 304 while nothing
 * moved) rather than by reloading the patrol_positions vector tiles: one request whatever the zoom
 * or the number of tiles on screen, the points move in place without tiles flickering, and the
 * shared tile cache is not rebuilt per user every 5 s. The tile layer's checkbox drives it: this
 * module puts its GeoJSON layer in the place of the tile layer's style layers. */
(function () {
  "use strict";

  const g = window.gridcity;
  const { el, fields, getJSON, map } = g;
  const root = document.getElementById("viewer");
  const panel = document.getElementById("panel");
  const section = document.getElementById("tab-patrols");
  const tabButton = document.getElementById("tab-patrols-button");
  if (!section || !tabButton) return;

  const ZONE = "Asia/Shanghai";
  const SPEEDS = [1, 4, 16, 64];
  const LIVE_EVERY_MS = 5000;
  const api = {
    workers: (date, q) => `/api/patrols/days/${date}/workers/` + (q ? `?q=${encodeURIComponent(q)}` : ""),
    day: (username, date) => `/api/patrols/workers/${encodeURIComponent(username)}/days/${date}/`,
    positions: "/api/patrols/positions/",
  };
  const LIVE = "patrol-live";
  const PB = { track: "patrol-pb-track", done: "patrol-pb-done", stops: "patrol-pb-stops", marker: "patrol-pb-marker" };
  const EMPTY = { type: "FeatureCollection", features: [] };

  // ---- time ----------------------------------------------------------------------------------

  const dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" });
  const clockFormat = new Intl.DateTimeFormat("zh-CN", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const shortFormat = new Intl.DateTimeFormat("zh-CN", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const today = () => dayFormat.format(new Date());
  const clock = (ms) => clockFormat.format(new Date(ms));
  const hhmm = (iso) => shortFormat.format(new Date(iso));
  const km = (m) => `${(m / 1000).toFixed(2)} 公里`;

  // ---- the panel -----------------------------------------------------------------------------

  const dateInput = el("input", { type: "date", id: "patrol-date", name: "date", required: "" });
  dateInput.value = today();
  dateInput.max = today();
  const searchInput = el("input", { type: "search", id: "patrol-q", name: "q", placeholder: "姓名 / 用户名", autocomplete: "off" });
  const statusEl = el("p", { id: "patrol-status", role: "status" });
  const listEl = el("ol", { id: "patrol-workers", "aria-label": "当日有轨迹的网格员" });
  const cardEl = el("div", { id: "patrol-card", "aria-live": "polite" });
  section.append(
    el("form", { id: "patrol-filters", "aria-label": "巡查筛选", onsubmit: (ev) => ev.preventDefault() },
      el("label", {}, "日期 ", dateInput), el("label", {}, "搜索 ", searchInput)),
    statusEl, listEl, cardEl);

  function setPatrolStatus(text, isError) {
    statusEl.textContent = text || "";
    statusEl.classList.toggle("error", Boolean(isError));
  }

  let listRequest = 0;
  let listed = new Map(); // username -> row of the last list

  async function loadWorkers() {
    const mine = ++listRequest;
    const date = dateInput.value || today();
    setPatrolStatus("正在读取巡查记录…");
    let page;
    try {
      page = await getJSON(api.workers(date, searchInput.value.trim()));
    } catch (e) {
      if (mine === listRequest) setPatrolStatus(`巡查记录读取失败：${e.message}`, true);
      return;
    }
    if (mine !== listRequest) return;
    listed = new Map(page.workers.map((w) => [w.username, w]));
    listEl.replaceChildren(...page.workers.map((w) => el("li", { class: "patrol-row", "data-username": w.username },
      el("button", { type: "button", onclick: () => openWorker(w.username, date) },
        el("span", { class: "patrol-main" }, el("b", {}, w.name), el("small", {}, [w.username, w.unit].filter(Boolean).join(" · "))),
        el("span", { class: "patrol-meta" }, `${hhmm(w.first_time)}–${hhmm(w.last_time)}`, el("small", {}, km(w.distance_m)))))));
    const count = page.workers.length;
    setPatrolStatus(count ? `${date} 共 ${count} 名网格员有轨迹${page.truncated ? "（仅列出前 500 名，请搜索）" : ""}` : `${date} 没有巡查轨迹`);
    root.dataset.patrolWorkers = String(count);
  }

  let searchTimer = null;
  searchInput.addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(loadWorkers, 250); });
  dateInput.addEventListener("change", () => { if (dateInput.value) { applyTrackDate(); loadWorkers(); } });

  // The tracks layer shows the chosen day only (its `date` tile filter).
  let trackTiles = null;
  let trackDate = null;
  function applyTrackDate(force) {
    const source = map.getSource("tracks");
    if (!source || !source.setTiles) return;
    if (!trackTiles) trackTiles = map.getStyle().sources.tracks.tiles;
    const date = dateInput.value || today();
    if (date === trackDate && !force) return; // unchanged: no reload of the tiles
    trackDate = date;
    const q = `date=${date}`;
    source.setTiles(trackTiles.map((t) => `${t}${t.includes("?") ? "&" : "?"}${q}`));
  }
  // The component filters rewrite every source's tiles (viewer.js applyFilters): put the day back after.
  document.getElementById("filters").addEventListener("change", () => setTimeout(() => { if (trackTiles) applyTrackDate(true); }));

  // ---- a worker's day card -------------------------------------------------------------------

  async function rowOf(username, date) {
    if (dateInput.value === date && listed.has(username)) return listed.get(username);
    const page = await getJSON(api.workers(date, username));
    return page.workers.find((w) => w.username === username) || null;
  }

  let cardRequest = 0;
  async function openWorker(username, date) {
    const mine = ++cardRequest;
    selectTab();
    if (playback && (playback.state().worker !== username || playback.state().date !== date)) stopPlayback();
    if (dateInput.value !== date) {
      dateInput.value = date;
      applyTrackDate();
      loadWorkers();
    }
    setPatrolStatus(`正在读取 ${username} 的轨迹…`);
    let row, day;
    try {
      [row, day] = await Promise.all([rowOf(username, date), getJSON(api.day(username, date))]);
    } catch (e) {
      if (mine === cardRequest) setPatrolStatus(`轨迹读取失败：${e.message}`, true);
      return null;
    }
    if (mine !== cardRequest) return null;
    setPatrolStatus("");
    for (const li of listEl.children) li.classList.toggle("selected", li.dataset.username === username);
    const coords = day.coordinates;
    const stopsList = day.stops.length
      ? el("ol", { class: "patrol-stops" }, ...day.stops.map((s, k) => el("li", {},
        el("button", { type: "button", "data-stop": k, onclick: () => { startPlayback(day, row); playback.jumpToStop(k); } },
          `${hhmm(s.start)}–${hhmm(s.end)}`, el("small", {}, ` 停留 ${Math.round(s.minutes)} 分钟`)))))
      : el("p", { class: "muted" }, "无停留");
    const card = el("div", { class: "patrol-card", "data-username": username, "data-date": date },
      el("button", { type: "button", class: "back", onclick: closeCard }, "‹ 返回列表"),
      el("h3", {}, row ? row.name : username, " ", el("small", {}, username)),
      fields([
        ["网格员", row ? `${row.name}（${username}）` : username],
        ["所属单位", row && row.unit],
        ["日期", date],
        ["时间", coords.length ? `${hhmm(coords[0][0])}–${hhmm(coords[coords.length - 1][0])}` : null],
        ["里程", row ? km(row.distance_m) : null],
        ["定位点", String(coords.length)],
        ["停留", `${day.stops.length} 处（${day.stop_rule.metres} 米内 ${day.stop_rule.minutes} 分钟以上）`],
      ]),
      el("div", { class: "buttons" },
        el("button", { type: "button", class: "primary play-day", disabled: coords.length < 2 ? "" : null, onclick: () => { startPlayback(day, row); playback.play(); } }, "▶ 回放")),
      el("h4", {}, "停留点"), stopsList);
    cardEl.replaceChildren(card);
    listEl.hidden = true;
    showDay(day, row);
    return card;
  }

  function closeCard() {
    cardEl.replaceChildren();
    listEl.hidden = false;
    stopPlayback();
    clearDay();
  }

  // ---- the day on the map --------------------------------------------------------------------

  function ensurePlaybackLayers() {
    if (map.getSource(PB.track)) return;
    for (const id of Object.values(PB)) map.addSource(id, { type: "geojson", data: EMPTY });
    map.addLayer({ id: PB.track, type: "line", source: PB.track, paint: { "line-color": "#94a3b8", "line-width": 3, "line-opacity": 0.7 } });
    map.addLayer({ id: PB.done, type: "line", source: PB.done, paint: { "line-color": "#0ea5e9", "line-width": 4 } });
    map.addLayer({ id: PB.stops, type: "circle", source: PB.stops, paint: {
      "circle-color": "#f59e0b", "circle-radius": 7, "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } });
    map.addLayer({ id: PB.marker, type: "circle", source: PB.marker, paint: {
      "circle-color": "#dc2626", "circle-radius": 8, "circle-stroke-color": "#ffffff", "circle-stroke-width": 3 } });
  }

  function line(coords) {
    return { type: "Feature", geometry: { type: "LineString", coordinates: coords }, properties: {} };
  }

  let shown = null; // the day on the map: {day, row}

  function showDay(day, row) {
    shown = { day, row };
    ensurePlaybackLayers();
    const coords = day.coordinates.map((c) => [c[1], c[2]]);
    map.getSource(PB.track).setData(coords.length > 1 ? line(coords) : EMPTY);
    map.getSource(PB.done).setData(EMPTY);
    map.getSource(PB.marker).setData(EMPTY);
    map.getSource(PB.stops).setData({ type: "FeatureCollection", features: day.stops.map((s, k) => ({
      type: "Feature", geometry: { type: "Point", coordinates: [s.lon, s.lat] }, properties: { stop: k, start: s.start, minutes: s.minutes } })) });
    if (coords.length) {
      const xs = coords.map((c) => c[0]), ys = coords.map((c) => c[1]);
      map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 60, maxZoom: 18, duration: 0 });
    }
  }

  function clearDay() {
    shown = null;
    if (!map.getSource(PB.track)) return;
    for (const id of Object.values(PB)) map.getSource(id).setData(EMPTY);
  }

  // ---- playback ------------------------------------------------------------------------------
  // Time on the day's clock advances by the frame's wall time x speed; the marker is interpolated
  // between the two fixes around it, and the line so far ends at the marker.

  let playback = null;

  function Playback(day, row) {
    const n = day.coordinates.length;
    const times = new Float64Array(n), lons = new Float64Array(n), lats = new Float64Array(n);
    day.coordinates.forEach((c, i) => { times[i] = Date.parse(c[0]); lons[i] = c[1]; lats[i] = c[2]; });
    const t0 = times[0], t1 = times[n - 1], span = Math.max(t1 - t0, 1);
    const stops = day.stops.map((s) => ({ ...s, at: Date.parse(s.start) }));
    let t = t0, speed = 16, playing = false, frame = null, last = null;

    const playButton = el("button", { type: "button", class: "pb-play", "aria-label": "播放" }, "▶");
    const speedSelect = el("select", { class: "pb-speed", "aria-label": "回放速度" },
      ...SPEEDS.map((s) => el("option", { value: s }, `${s}x`)));
    speedSelect.value = String(speed);
    const slider = el("input", { type: "range", class: "pb-slider", min: 0, max: Math.round(span / 1000), step: 1, value: 0, "aria-label": "回放进度" });
    const clockEl = el("output", { class: "pb-clock", "aria-live": "off" });
    const ticks = el("div", { class: "pb-ticks" }, ...stops.map((s, k) => el("button", {
      type: "button", class: "pb-tick", "data-stop": k, style: `left:${((s.at - t0) / span) * 100}%`,
      title: `停留 ${hhmm(s.start)}（${Math.round(s.minutes)} 分钟）`, "aria-label": `跳到停留点 ${hhmm(s.start)}`,
      onclick: () => jumpToStop(k),
    })));
    const bar = el("div", { id: "playback", class: "playback", role: "group", "aria-label": "轨迹回放" },
      el("div", { class: "pb-title" }, el("b", {}, row ? row.name : day.worker), ` ${day.date}`,
        el("button", { type: "button", class: "pb-close", "aria-label": "关闭回放", onclick: stopPlayback }, "✕")),
      el("div", { class: "pb-controls" }, playButton, clockEl, speedSelect),
      el("div", { class: "pb-scrub" }, ticks, slider));

    function at(time) {
      // The last fix at or before `time` (binary search), then a straight line to the next one.
      let lo = 0, hi = n - 1;
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (times[mid] <= time) lo = mid; else hi = mid - 1; }
      if (lo >= n - 1) return { i: n - 1, lon: lons[n - 1], lat: lats[n - 1] };
      const f = (time - times[lo]) / Math.max(times[lo + 1] - times[lo], 1);
      return { i: lo, lon: lons[lo] + (lons[lo + 1] - lons[lo]) * f, lat: lats[lo] + (lats[lo + 1] - lats[lo]) * f };
    }

    // The line so far is redrawn when a fix is passed or every 100 ms, not every frame: a day of
    // fixes each second is ~30,000 points to hand to the map's worker.
    let doneI = -1, doneAt = 0;
    function render() {
      const p = at(t);
      map.getSource(PB.marker).setData({ type: "Feature", geometry: { type: "Point", coordinates: [p.lon, p.lat] }, properties: {} });
      const wall = performance.now();
      if (!playing || p.i !== doneI || wall - doneAt > 100) {
        doneI = p.i;
        doneAt = wall;
        const done = [];
        for (let k = 0; k <= p.i; k++) done.push([lons[k], lats[k]]);
        done.push([p.lon, p.lat]);
        map.getSource(PB.done).setData(line(done));
      }
      slider.value = String(Math.round((t - t0) / 1000));
      clockEl.textContent = clock(t);
      Object.assign(bar.dataset, { lon: p.lon.toFixed(7), lat: p.lat.toFixed(7), time: new Date(t).toISOString(), playing: String(playing), speed: String(speed) });
    }

    function step(now) {
      if (!playing) return;
      if (last !== null) t = Math.min(t + (now - last) * speed, t1);
      last = now;
      if (t >= t1) { pause(); render(); return; } // the end: stop there
      render();
      frame = requestAnimationFrame(step);
    }

    function play() {
      if (playing) return;
      if (t >= t1) t = t0; // played to the end: again from the start
      playing = true;
      last = null;
      playButton.textContent = "❚❚";
      playButton.setAttribute("aria-label", "暂停");
      render();
      frame = requestAnimationFrame(step);
    }

    function pause() {
      playing = false;
      if (frame !== null) cancelAnimationFrame(frame);
      frame = null;
      playButton.textContent = "▶";
      playButton.setAttribute("aria-label", "播放");
      bar.dataset.playing = "false";
    }

    function seek(time) {
      t = Math.min(Math.max(time, t0), t1);
      last = null;
      render();
    }

    function jumpToStop(k) { if (stops[k]) seek(stops[k].at); }

    playButton.addEventListener("click", () => (playing ? pause() : play()));
    speedSelect.addEventListener("change", () => { speed = Number(speedSelect.value); bar.dataset.speed = String(speed); });
    slider.addEventListener("input", () => seek(t0 + Number(slider.value) * 1000));
    document.getElementById("map").append(bar);
    document.getElementById("map").classList.add("playback-on");
    render();

    return {
      play, pause, seek, jumpToStop, bar,
      setSpeed: (s) => { speed = s; speedSelect.value = String(s); bar.dataset.speed = String(s); },
      state: () => ({ ...at(t), time: new Date(t).toISOString(), ms: t, frameAt: last, playing, speed, worker: day.worker, date: day.date }),
      close: () => { pause(); bar.remove(); document.getElementById("map").classList.remove("playback-on"); },
    };
  }

  function startPlayback(day, row) {
    const same = playback && playback.state().worker === day.worker && playback.state().date === day.date;
    if (same) return playback;
    stopPlayback();
    ensurePlaybackLayers();
    playback = Playback(day, row);
    // On a phone the open panel covers the lower map where the bar sits: fold it to its tab bar.
    if (window.gridcityFrame && window.gridcityFrame.isPhone()) window.gridcityFrame.setPanelOpen(false);
    return playback;
  }

  function stopPlayback() {
    if (!playback) return;
    playback.close();
    playback = null;
    if (map.getSource(PB.marker)) { map.getSource(PB.marker).setData(EMPTY); map.getSource(PB.done).setData(EMPTY); }
  }

  // ---- live positions ------------------------------------------------------------------------

  let liveTimer = null;
  let liveText = null;
  let live = EMPTY;

  function liveOn() {
    return Boolean(map.getLayer(LIVE)) && map.getLayoutProperty(LIVE, "visibility") !== "none";
  }

  async function refreshLive() {
    let text;
    try {
      // no-cache: the browser revalidates with the ETag, the server answers 304 while nothing moved.
      const r = await fetch(api.positions, { credentials: "same-origin", cache: "no-cache", headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" } });
      if (r.status === 401) { g.logInAgain(); return; }
      if (!r.ok) return;
      text = await r.text();
    } catch (e) {
      return; // offline for a moment: the next round tries again
    }
    if (text !== liveText && map.getSource(LIVE)) {
      liveText = text;
      live = JSON.parse(text);
      map.getSource(LIVE).setData(live);
    }
    root.dataset.liveRefreshed = new Date().toISOString();
  }

  function scheduleLive(now) {
    clearTimeout(liveTimer);
    liveTimer = null;
    if (document.visibilityState !== "visible" || !liveOn()) return;
    liveTimer = setTimeout(async () => { liveTimer = null; await refreshLive(); scheduleLive(false); }, now ? 0 : LIVE_EVERY_MS);
  }

  document.addEventListener("visibilitychange", () => scheduleLive(document.visibilityState === "visible"));
  document.getElementById("layer-tree").addEventListener("change", (ev) => {
    if (ev.target.dataset && ev.target.dataset.layer === "patrol_positions") scheduleLive(true);
  });

  // The live layer takes the place of the tile layer's style layers (same checkbox, same colours).
  function installLive() {
    const tileStyles = g.styleLayersOf.patrol_positions;
    if (!tileStyles || map.getSource(LIVE)) return; // not drawn for this user
    map.addSource(LIVE, { type: "geojson", data: EMPTY });
    map.addLayer({ id: LIVE, type: "circle", source: LIVE, layout: { visibility: "none" }, paint: {
      "circle-color": "#0ea5e9", "circle-radius": 7, "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } });
    const wasOn = tileStyles.some((s) => map.getLayoutProperty(s, "visibility") !== "none");
    for (const s of tileStyles) map.setLayoutProperty(s, "visibility", "none");
    tileStyles.splice(0, tileStyles.length, LIVE);
    if (wasOn) { map.setLayoutProperty(LIVE, "visibility", "visible"); scheduleLive(true); }
  }
  if (map.loaded() && map.isStyleLoaded()) installLive(); else map.on("load", installLive);

  // ---- tab and map clicks ----------------------------------------------------------------------

  function turnOn(layerId) {
    const box = document.querySelector(`#layer-tree input[data-layer='${layerId}']`);
    if (box && !box.checked) box.click();
    else if (!box && g.styleLayersOf[layerId]) { g.setVisible(layerId, true); if (layerId === "patrol_positions") scheduleLive(true); }
  }

  let loadedOnce = false;
  function selectTab() {
    for (const tab of document.querySelectorAll("#tabs [role=tab]")) {
      const on = tab === tabButton;
      tab.setAttribute("aria-selected", String(on));
      const body = document.getElementById(tab.getAttribute("aria-controls"));
      if (body) body.hidden = !on;
    }
    panel.classList.remove("incidents-open");
    panel.classList.add("patrols-open");
    applyTrackDate();
    turnOn("tracks");
    turnOn("patrol_positions");
    if (!loadedOnce) { loadedOnce = true; loadWorkers(); }
  }
  tabButton.addEventListener("click", selectTab);
  // viewer-incidents.js switches between 地图 and 事件 only (also from code, e.g. a case found by the
  // search box): whenever another tab becomes the selected one, this one steps aside.
  const otherTabs = [...document.querySelectorAll("#tabs [role=tab]")].filter((t) => t !== tabButton);
  new MutationObserver(() => {
    if (tabButton.getAttribute("aria-selected") !== "true") return; // (setting it again would loop)
    if (!otherTabs.some((t) => t.getAttribute("aria-selected") === "true")) return;
    section.hidden = true;
    tabButton.setAttribute("aria-selected", "false");
    panel.classList.remove("patrols-open");
  }).observe(document.getElementById("tabs"), { subtree: true, attributes: true, attributeFilter: ["aria-selected"] });

  // Called by viewer.js for every map click: true when it was ours (a stop, a live position, a track).
  function click(e, found) {
    const pad = 6;
    const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
    const mine = [PB.stops, LIVE].filter((id) => map.getLayer(id) && map.getLayoutProperty(id, "visibility") !== "none");
    const hits = mine.length ? map.queryRenderedFeatures(box, { layers: mine }) : [];
    const stop = hits.find((f) => f.layer.id === PB.stops);
    if (stop && shown) { startPlayback(shown.day, shown.row).jumpToStop(Number(stop.properties.stop)); return true; }
    const position = hits.find((f) => f.layer.id === LIVE);
    if (position) { openWorker(position.properties.worker, today()); return true; }
    const trackStyles = g.styleLayersOf.tracks || [];
    const track = found.find((f) => trackStyles.includes(f.layer.id) && f.properties.worker);
    if (track) { openWorker(track.properties.worker, track.properties.day); return true; }
    return false;
  }

  g.patrols = {
    click, openWorker, selectTab, loadWorkers, refreshLive,
    playback: () => playback,
    live: () => live,
    liveScheduled: () => liveTimer !== null,
  };
})();
