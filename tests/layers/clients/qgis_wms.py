"""Drive QGIS (Debian python3-qgis, headless) against a live WMS, as a GIS user adding the layer would.

Run with /usr/bin/python3: qgis_wms.py '<json config>'. Prints one JSON object on the last line:
whether the layer is valid, its CRS and extent, and the colours of a rendered map image."""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRasterLayer,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def main():
    cfg = json.loads(sys.argv[1])
    app = QgsApplication([], False)
    app.initQgis()
    uri = (
        f"url={cfg['url']}&layers={cfg['layer']}&styles=&format=image/png&crs={cfg['crs']}"
        f"&username={cfg['username']}&password={cfg['password']}"
    )
    layer = QgsRasterLayer(uri, cfg["layer"], "wms")
    out = {"valid": layer.isValid()}
    if not layer.isValid():
        out["error"] = layer.error().summary()
        print(json.dumps(out))
        sys.stdout.flush()
        os._exit(0)
    out["crs"] = layer.crs().authid()
    ext = layer.extent()
    out["extent"] = [ext.xMinimum(), ext.yMinimum(), ext.xMaximum(), ext.yMaximum()]
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(cfg["crs"]))
    settings.setExtent(QgsRectangle(*cfg["bbox"]))
    settings.setOutputSize(QSize(200, 200))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    out["errors"] = [e.message for e in job.errors()]
    colours = {}
    for x in range(0, 200, 4):
        for y in range(0, 200, 4):
            c = QColor(image.pixel(x, y))
            colours[c.name()] = colours.get(c.name(), 0) + 1
    out["colours"] = colours
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # skip QGIS teardown, which can crash headless


if __name__ == "__main__":
    main()
