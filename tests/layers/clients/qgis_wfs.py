"""Drive QGIS (Debian python3-qgis, headless) against a live WFS, as a GIS editor would.

Run with /usr/bin/python3 (QGIS is not in the venv): qgis_wfs.py '<json config>'. Prints one JSON
object on the last line of stdout. Modes: "edit" (move a vertex, add a grid, rename one in Chinese,
delete one, commit) and "overlap" (an overlapping geometry edit QGIS must report as refused)."""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import Qgis, QgsApplication, QgsFeature, QgsGeometry, QgsVectorLayer  # noqa: E402

X0, Y0 = 116.80, 35.52


def wkt_box(x0, y0, x1, y1):
    a, b, c, d = X0 + x0, Y0 + y0, X0 + x1, Y0 + y1
    return f"MULTIPOLYGON((({a} {b},{c} {b},{c} {d},{a} {d},{a} {b})))"


def main():
    cfg = json.loads(sys.argv[1])
    app = QgsApplication([], False)
    app.initQgis()
    uri = (
        f"url='{cfg['url']}' typename='gridcity:base_grids' version='auto' "
        f"username='{cfg['username']}' password='{cfg['password']}' restrictToRequestBBOX='0'"
    )
    layer = QgsVectorLayer(uri, "base_grids", "WFS")
    out = {"qgis": Qgis.QGIS_VERSION, "valid": layer.isValid()}
    if not layer.isValid():
        out["error"] = layer.error().summary()
        print(json.dumps(out))
        return
    provider = layer.dataProvider()
    caps = provider.capabilities()
    out["can_add"] = bool(caps & provider.AddFeatures)
    out["can_change_geometry"] = bool(caps & provider.ChangeGeometries)
    out["fields"] = [f.name() for f in layer.fields()]
    out["crs"] = layer.crs().authid()
    out["wkb_type"] = layer.wkbType()
    features = {f["code"]: f for f in layer.getFeatures()}
    out["codes"] = sorted(features)
    idx_name = layer.fields().indexFromName("name")
    layer.startEditing()
    if cfg["mode"] == "edit":
        first = features["37081200100101"]
        geom = first.geometry()
        # move the south-west corner 0.001 deg inwards (a vertex QGIS users drag)
        vertex = min(range(4), key=lambda i: geom.vertexAt(i).x() + geom.vertexAt(i).y())
        out["move_vertex"] = layer.moveVertex(X0 + 0.021, Y0 + 0.021, first.id(), vertex)
        new = QgsFeature(layer.fields())
        new["code"] = "37081200100104"
        new["name"] = "四号网格"
        new["parent_code"] = "370812001001"
        new.setGeometry(QgsGeometry.fromWkt(wkt_box(0.03, 0.03, 0.04, 0.04)))
        out["add"] = layer.addFeature(new)
        out["rename"] = layer.changeAttributeValue(features["37081200100102"].id(), idx_name, "光明路网格（改）")
        out["delete"] = layer.deleteFeature(features["37081200100103"].id())
    else:
        second = features["37081200100102"]
        out["change"] = layer.changeGeometry(second.id(), QgsGeometry.fromWkt(wkt_box(0.025, 0.02, 0.04, 0.03)))
    out["committed"] = layer.commitChanges()
    out["errors"] = layer.commitErrors()
    if not out["committed"]:
        layer.rollBack()
    print(json.dumps(out, ensure_ascii=False))
    sys.stdout.flush()
    os._exit(0)  # skip QGIS teardown, which can crash headless


if __name__ == "__main__":
    main()
