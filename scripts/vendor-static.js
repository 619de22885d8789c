// npm postinstall: copies the browser libraries we serve ourselves (never from a CDN) into
// node_modules/.gridcity-static/vendor/, which Django serves as static files (STATICFILES_DIRS).
// OpenLayers: the GeoDjango admin map widget. MapLibre GL JS: the map viewer at /.
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const files = {
  ol: [["ol/dist/ol.js", "ol.js"], ["ol/dist/ol.js.map", "ol.js.map"], ["ol/ol.css", "ol.css"]],
  "maplibre-gl": [
    ["maplibre-gl/dist/maplibre-gl.js", "maplibre-gl.js"],
    ["maplibre-gl/dist/maplibre-gl.js.map", "maplibre-gl.js.map"],
    ["maplibre-gl/dist/maplibre-gl.css", "maplibre-gl.css"],
    ["maplibre-gl/LICENSE.txt", "LICENSE.txt"],
  ],
};

for (const [dir, pairs] of Object.entries(files)) {
  const target = path.join(root, "node_modules", ".gridcity-static", "vendor", dir);
  fs.mkdirSync(target, { recursive: true });
  for (const [source, name] of pairs) {
    fs.copyFileSync(path.join(root, "node_modules", source), path.join(target, name));
  }
}
