/* The search box: one query over components, grids, organisations, roads and classes
 * (GET /api/search/?q= answers {"q", "groups": [{"kind", "label", "count", "results": [{"id", "title",
 * "subtitle", "lon", "lat", "bbox", "url"}]}]}), results grouped with their counts, "显示更多" instead of
 * a silent cut. Where the server has no /api/search/ yet, grid names (/api/grids/search/) answer alone.
 *
 * Every search clears the old card and the old status first, so an earlier error never stays under a
 * later success and a failed search never leaves a card of something else open. */
(function () {
  "use strict";

  const g = window.gridcity;
  const { el, getJSON, setStatus, urls } = g;
  const COMPONENT_ID = /^\d{16,17}$/;
  const GRID_CODE = /^\d{6,15}$/;
  const CASE_NUMBER = /^20\d{12}$/; // date + serial; may also be a grid code, so a miss falls through
  const PAGE = 10; // rows shown per group before "显示更多"
  const resultsEl = document.getElementById("search-results");
  let asked = 0; // a later search wins over an earlier one still answering

  // null when this server has no unified search (404): the caller falls back to grid names.
  async function unified(q, extra) {
    const r = await fetch(urls.search(q) + (extra ? `&${extra}` : ""), { credentials: "same-origin", headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" } });
    if (r.status === 404) return null;
    if (!r.ok) return getJSON(urls.search(q) + (extra ? `&${extra}` : "")); // the same refusal, as getJSON words it
    return r.json();
  }

  async function gridNames(q) {
    const page = await getJSON(urls.gridSearch(q));
    const rows = page.results || page.features || page;
    return {
      q,
      groups: [{
        kind: "grid", label: "网格", count: rows.length,
        results: rows.map((row) => {
          const code = row.code || (row.properties && row.properties.code);
          const name = row.name || (row.properties && row.properties.name);
          return { id: code, title: name, subtitle: code, lon: null, lat: null, bbox: null, url: null };
        }),
      }],
    };
  }

  async function go(kind, row) {
    setStatus("正在前往…");
    try {
      if (kind === "component") {
        g.flyToComponent(await getJSON(urls.component(row.id)));
      } else if (kind === "grid") {
        g.flyToGrid(await getJSON(urls.grid(row.id)));
      } else if (kind === "class") {
        chooseClass(row.id);
      } else if (row.bbox) {
        g.busy(true);
        g.map.once("moveend", () => g.busy(false));
        g.map.fitBounds([[row.bbox[0], row.bbox[1]], [row.bbox[2], row.bbox[3]]], { padding: 60, maxZoom: 18 });
      } else if (row.lon !== null && row.lon !== undefined) {
        g.busy(true);
        g.map.once("moveend", () => g.busy(false));
        g.map.flyTo({ center: [row.lon, row.lat], zoom: Math.max(g.map.getZoom(), 17) });
      }
      setStatus(`${row.title || row.id}`);
    } catch (e) {
      g.busy(false);
      g.closePopup();
      setStatus(`${row.title || row.id}：${e.message}`, true);
    }
  }

  // A class result filters the map to that class (the option carrying its code, in either scheme).
  function chooseClass(code) {
    const select = document.getElementById("filter-class");
    const option = [...select.options].find((o) => o.value.split(",").includes(String(code)));
    if (!option) throw new Error("没有此类别的筛选项");
    select.value = option.value;
    g.applyFilters();
  }

  function resultItem(kind, row) {
    return el("li", { "data-kind": kind, "data-id": row.id },
      el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); go(kind, row); } },
        row.title || row.id, row.subtitle ? el("small", {}, ` ${row.subtitle}`) : null));
  }

  function groupBlock(q, group) {
    const list = el("ul");
    const rows = [...group.results];
    let shown = 0;
    const more = el("button", { type: "button", class: "more" }, "显示更多");
    function showNext() {
      for (const row of rows.slice(shown, shown + PAGE)) list.append(resultItem(group.kind, row));
      shown = Math.min(rows.length, shown + PAGE);
      const left = group.count - shown;
      more.hidden = left <= 0;
      more.textContent = `显示更多（还有 ${left} 条）`;
    }
    more.addEventListener("click", async () => {
      if (shown >= rows.length && rows.length < group.count) {
        // Ask the server for the next rows of this group; if it cannot page, say how many remain.
        more.disabled = true;
        try {
          const next = await unified(q, `kind=${encodeURIComponent(group.kind)}&offset=${rows.length}`);
          const same = next && (next.groups || []).find((x) => x.kind === group.kind);
          const fresh = same ? same.results.filter((r) => !rows.some((x) => String(x.id) === String(r.id))) : [];
          if (!fresh.length) { more.textContent = `还有 ${group.count - shown} 条，请输入更具体的搜索词`; return; }
          rows.push(...fresh);
        } finally {
          more.disabled = false;
        }
      }
      showNext();
    });
    showNext();
    return el("li", { class: "result-group", "data-kind": group.kind },
      el("h3", {}, group.label || group.kind, " ", el("span", { class: "count" }, String(group.count))), list, more);
  }

  async function search(q) {
    q = (q || "").trim();
    const ask = ++asked;
    resultsEl.replaceChildren();
    g.closePopup();
    g.highlight(null);
    if (!q) { setStatus(""); return; }
    setStatus("正在搜索…");
    try {
      if (COMPONENT_ID.test(q)) {
        const f = await getJSON(urls.component(q));
        if (ask !== asked) return;
        setStatus("正在前往…");
        g.flyToComponent(f);
        return;
      }
      const incidents = g.incidents;
      if (CASE_NUMBER.test(q) && incidents && await incidents.findCase(q)) { setStatus(""); return; }
      let answer = await unified(q);
      if (!answer && GRID_CODE.test(q)) {
        const f = await getJSON(urls.grid(q));
        if (ask !== asked) return;
        setStatus("正在前往…");
        g.flyToGrid(f);
        return;
      }
      if (!answer) answer = await gridNames(q);
      if (ask !== asked) return;
      const groups = (answer.groups || []).filter((x) => x.count > 0 && x.results && x.results.length);
      const total = groups.reduce((n, x) => n + x.count, 0);
      if (!total) { setStatus(`没有找到与“${q}”相关的部件、网格、单位、道路或类别`, true); return; }
      resultsEl.append(...groups.map((x) => groupBlock(q, x)));
      setStatus(`找到 ${total} 条结果`);
      // An ID or a grid code typed in full goes straight there (its children and longer codes stay listed).
      for (const x of groups) {
        const exact = ["component", "grid"].includes(x.kind) && x.results.find((r) => String(r.id) === q);
        if (exact) { go(x.kind, exact); break; }
      }
    } catch (e) {
      if (ask !== asked) return;
      g.closePopup();
      setStatus(`搜索“${q}”失败：${e.message}`, true);
    }
  }

  document.getElementById("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    search(document.getElementById("q").value);
  });
  g.search = search;
})();
