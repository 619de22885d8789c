"""Drive QGIS (Debian python3-qgis, headless) against a live WFS on the `cameras` layer, as a GIS
editor would: move a camera and turn it, or try a refused edit.

Run with /usr/bin/python3 (QGIS is not in the venv): qgis_wfs_cameras.py '<json config>'. Prints one
JSON object on the last line of stdout. Modes: "edit" (move the camera to cfg["to"] and set its
azimuth to cfg["azimuth"], commit), "bad_azimuth" (azimuth cfg["azimuth"], out of range) and
"outside" (move it to cfg["to"], outside the district): both must be refused with the server's
message in QGIS's commit errors."""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import Qgis, QgsApplication, QgsGeometry, QgsPointXY, QgsVectorLayer  # noqa: E402


def main():
    cfg = json.loads(sys.argv[1])
    app = QgsApplication([], False)
    app.initQgis()
    uri = (
        f"url='{cfg['url']}' typename='gridcity:cameras' version='auto' "
        f"username='{cfg['username']}' password='{cfg['password']}' restrictToRequestBBOX='0'"
    )
    layer = QgsVectorLayer(uri, "cameras", "WFS")
    out = {"qgis": Qgis.QGIS_VERSION, "valid": layer.isValid()}
    if not layer.isValid():
        out["error"] = layer.error().summary()
        print(json.dumps(out))
        return
    provider = layer.dataProvider()
    caps = provider.capabilities()
    out["can_change_geometry"] = bool(caps & provider.ChangeGeometries)
    out["can_change_attributes"] = bool(caps & provider.ChangeAttributeValues)
    out["fields"] = [f.name() for f in layer.fields()]
    out["crs"] = layer.crs().authid()
    features = {f["device_id"]: f for f in layer.getFeatures()}
    out["device_ids"] = sorted(features)
    camera = features[cfg["device_id"]]
    out["before"] = {
        "azimuth": camera["azimuth"],
        "xy": [camera.geometry().asPoint().x(), camera.geometry().asPoint().y()],
    }
    idx_azimuth = layer.fields().indexFromName("azimuth")
    layer.startEditing()
    if cfg["mode"] in ("edit", "outside"):
        x, y = cfg["to"]
        out["move"] = layer.changeGeometry(camera.id(), QgsGeometry.fromPointXY(QgsPointXY(x, y)))
    if cfg["mode"] in ("edit", "bad_azimuth"):
        out["turn"] = layer.changeAttributeValue(camera.id(), idx_azimuth, cfg["azimuth"])
    out["committed"] = layer.commitChanges()
    out["errors"] = layer.commitErrors()
    if not out["committed"]:
        layer.rollBack()
    print(json.dumps(out, ensure_ascii=False))
    sys.stdout.flush()
    os._exit(0)  # skip QGIS teardown, which can crash headless


if __name__ == "__main__":
    main()
