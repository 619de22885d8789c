"""QGIS (Debian python3-qgis, headless) edits a grid over WFS-T, then reads the layer again in the
same process: by reloading the layer, by opening the same URI again, and through the editing session
of a second layer object opened before the edit. Every read must show the edit (QGIS keeps an HTTP
cache of GET answers: stale answers would bring the old geometry back).

Run with /usr/bin/python3: qgis_reload.py '<json config>'. Prints one JSON object on the last line."""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsGeometry, QgsVectorLayer  # noqa: E402

X0, Y0 = 116.80, 35.52
CODE = "37081200100102"


def box(x0, y0, x1, y1):
    a, b, c, d = X0 + x0, Y0 + y0, X0 + x1, Y0 + y1
    return f"MULTIPOLYGON((({a} {b},{c} {b},{c} {d},{a} {d},{a} {b})))"


def seen(layer) -> dict:
    f = next(f for f in layer.getFeatures() if f["code"] == CODE)
    e = f.geometry().boundingBox()
    return {
        "name": f["name"],
        "extent": [round(v, 6) for v in (e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum())],
    }


def main():
    cfg = json.loads(sys.argv[1])
    app = QgsApplication([], False)
    app.initQgis()
    uri = (
        f"url='{cfg['url']}' typename='gridcity:base_grids' version='auto' "
        f"username='{cfg['username']}' password='{cfg['password']}' restrictToRequestBBOX='0'"
    )
    editor = QgsVectorLayer(uri, "base_grids", "WFS")
    bystander = QgsVectorLayer(uri, "base_grids (2)", "WFS")  # opened before the edit, like a second map
    out = {
        "valid": editor.isValid() and bystander.isValid(),
        "before": seen(editor),
        "bystander_before": seen(bystander),
    }
    feature = next(f for f in editor.getFeatures() if f["code"] == CODE)
    editor.startEditing()
    editor.changeGeometry(feature.id(), QgsGeometry.fromWkt(box(*cfg["new_box"])))
    editor.changeAttributeValue(feature.id(), editor.fields().indexFromName("name"), cfg["new_name"])
    out["committed"] = editor.commitChanges()
    out["errors"] = editor.commitErrors()
    editor.dataProvider().reloadData()
    editor.reload()
    out["reloaded"] = seen(editor)
    out["reopened"] = seen(QgsVectorLayer(uri, "base_grids (again)", "WFS"))
    bystander.dataProvider().reloadData()
    bystander.startEditing()
    out["bystander_editing"] = seen(bystander)
    bystander.rollBack()
    print(json.dumps(out, ensure_ascii=False))
    sys.stdout.flush()
    os._exit(0)  # skip QGIS teardown, which can crash headless


if __name__ == "__main__":
    main()
