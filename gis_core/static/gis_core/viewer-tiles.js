/* Grouped tile sources: the style names one source per layer (/tiles/<layer>/{z}/{x}/{y}.mvt), which
 * makes one request per layer per tile (~108 at one zoom with 14 layers). The server also answers
 * combined tiles (/tiles/a,b,c/{z}/{x}/{y}.mvt: the layers' MVTs concatenated), so the viewer merges the
 * per-layer sources that share a zoom range into one source, asking only for the layers that are on.
 *
 * gridcityTiles.group(style) rewrites a style before MapLibre takes it (setStyle's transformStyle);
 * gridcityTiles.refresh(map, isOn, queryFor) points each group at its visible layers and filters. */
(function () {
  "use strict";

  // A per-layer tile URL: base, layer id, tile path. Anything else is left as the style gave it.
  const ONE_LAYER = /^(.*\/tiles\/)([^/,?]+)(\/\{z\}\/\{x\}\/\{y\}\.mvt)$/;
  // Revalidated on every view and refreshed by source id by the incidents panel, or filtered by day by
  // the patrols panel (tracks, coverage; live positions are redrawn in place): kept on their own.
  const OWN_SOURCE = new Set(["incidents", "tracks", "patrol_positions", "patrol_coverage"]);

  const groups = {}; // group source id -> { base, suffix, members: [tile layer ids], url }
  const groupOf = {}; // tile layer id -> group source id

  function group(style) {
    const sources = {};
    for (const [id, source] of Object.entries(style.sources || {})) {
      const m = source.type === "vector" && source.tiles && source.tiles.length === 1 && ONE_LAYER.exec(source.tiles[0]);
      if (!m || m[2] !== id || OWN_SOURCE.has(id)) { sources[id] = source; continue; }
      const key = `gridcity-z${source.minzoom ?? 0}-${source.maxzoom ?? 22}`;
      if (!groups[key]) {
        groups[key] = { base: m[1], suffix: m[3], members: [], url: null };
        sources[key] = { ...source };
      }
      groups[key].members.push(id);
      groupOf[id] = key;
    }
    for (const [key, g] of Object.entries(groups)) {
      g.url = `${g.base}${g.members.join(",")}${g.suffix}`;
      sources[key].tiles = [g.url];
    }
    const layers = (style.layers || []).map((l) => (groupOf[l.source] ? { ...l, source: groupOf[l.source] } : l));
    return { ...style, sources, layers };
  }

  // `isOn(layerId)`: drawn now; `queryFor(layerIds)`: the filter query string those layers accept.
  function refresh(map, isOn, queryFor) {
    for (const [key, g] of Object.entries(groups)) {
      const source = map.getSource(key);
      if (!source || !source.setTiles) continue;
      const on = g.members.filter(isOn);
      if (!on.length) continue; // nothing drawn from it: MapLibre asks for no tiles
      const query = queryFor(on);
      const url = `${g.base}${on.join(",")}${g.suffix}${query ? `?${query}` : ""}`;
      if (url !== g.url) { g.url = url; source.setTiles([url]); }
    }
  }

  // For callers that address a layer's source (filters on single-layer sources, refreshes).
  function sourceOf(layerId) {
    return groupOf[layerId] || layerId;
  }

  window.gridcityTiles = { group, refresh, sourceOf, groups, groupOf };
})();
