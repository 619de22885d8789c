/* Cameras in the viewer: "which cameras see this point" (GET /api/cameras/seeing/?lon=&lat=).
 *
 * Three ways in: a right-click (or a long press on a touch screen) anywhere on the map, the
 * "看此处摄像头" button on a grid card (a plain click on the map lands on a grid), and a click where
 * nothing at all is drawn. The list shows the cameras whose current view holds the point, nearest
 * first, then the PTZ cameras that could turn to it; each row has its state colour and distance and
 * flies to the camera when clicked. The incident card shows the same list as "附近摄像头".
 * Built with textContent only (viewer.js `el`), like the rest of the viewer. */
(function () {
  "use strict";

  const g = window.gridcity;
  if (!g) return;
  const { el, getJSON, map } = g;
  const STATE_COLOURS = { online: "#16a34a", offline: "#94a3b8", fault: "#dc2626" };
  const LONG_PRESS_MS = 600;

  function seeingUrl(lon, lat) {
    return `/api/cameras/seeing/?lon=${lon.toFixed(7)}&lat=${lat.toFixed(7)}`;
  }

  function lonLatOf(at) {
    return Array.isArray(at) ? at : [at.lng, at.lat];
  }

  function row(c, kind) {
    const colour = STATE_COLOURS[c.state] || "#475569";
    const fly = () => map.flyTo({ center: [c.lon, c.lat], zoom: Math.max(map.getZoom(), 18) });
    return el("li", { class: "camera-row", "data-device-id": c.device_id, "data-state": c.state, "data-kind": kind },
      el("button", { type: "button", class: "camera-fly", title: "飞到此摄像头", onclick: fly },
        el("span", { class: "camera-dot", style: `background:${colour}`, "aria-hidden": "true" }),
        el("span", { class: "camera-name" }, c.name),
        " ",
        el("small", {}, `${c.state_label || c.state} · ${Math.round(c.distance_m)} 米`)));
  }

  // The list for one point, filled in when the answer comes: a placeholder first, so a card can
  // show at once and the list arrives inside it.
  function seeingList(at) {
    const [lon, lat] = lonLatOf(at);
    const box = el("div", { class: "camera-list", "data-lon": lon, "data-lat": lat }, el("p", { class: "muted" }, "正在查询摄像头…"));
    getJSON(seeingUrl(lon, lat)).then((body) => {
      const parts = [];
      parts.push(body.cameras.length
        ? el("ul", { class: "cameras-seeing" }, ...body.cameras.map((c) => row(c, "sees")))
        : el("p", { class: "muted cameras-none" }, "没有摄像头正对此处"));
      if (body.could_turn.length) {
        parts.push(el("h5", {}, `可转向此处（${body.could_turn.length}）`),
          el("ul", { class: "cameras-could-turn" }, ...body.could_turn.map((c) => row(c, "could_turn"))));
      }
      box.replaceChildren(...parts);
    }).catch((e) => {
      box.replaceChildren(el("p", { class: "error" }, `摄像头：${e.message}`));
    });
    return box;
  }

  function openSeeing(at) {
    const card = el("div", { class: "gc-card", "data-kind": "cameras-seeing" },
      el("h3", {}, "看到此处的摄像头"), seeingList(at));
    g.showPopup(at, card);
    return card;
  }

  function button(at) {
    return el("button", { type: "button", class: "camera-here", onclick: () => openSeeing(at) }, "看此处摄像头");
  }

  // For the incident card: the cameras that see the case's point.
  function nearby(at) {
    return el("section", { class: "case-cameras" }, el("h4", {}, "附近摄像头"), seeingList(at));
  }

  map.on("contextmenu", (e) => {
    e.preventDefault();
    openSeeing(e.lngLat);
  });

  // Touch screens have no right-click: a finger held still for LONG_PRESS_MS does the same.
  let press = null;
  map.on("touchstart", (e) => {
    if (e.points && e.points.length !== 1) { press = null; return; }
    const at = e.lngLat;
    press = setTimeout(() => { press = null; openSeeing(at); }, LONG_PRESS_MS);
  });
  for (const end of ["touchend", "touchmove", "touchcancel", "dragstart"]) {
    map.on(end, () => { if (press) { clearTimeout(press); press = null; } });
  }

  g.cameras = { seeingList, openSeeing, button, nearby };
})();
