"""Writes the QGIS Server project of the WFS benchmark: layer `base_grids` = layers_grid rows of level 4.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 bench/qgis_server_project.py OUT.qgs --dbname gridcity_bench_wfs \
        [--host 127.0.0.1] [--port 54329] [--user postgres]

Run with Debian's /usr/bin/python3 (python3-qgis, QGIS 3.22), not the project venv. The project publishes
the layer over WFS (WFSLayers), allows Update/Insert/Delete (WFSTLayers), writes coordinates with 7
decimals (WFSLayersPrecision; the grids are stored rounded to 1e-7 degrees, so nothing is lost) and is
in EPSG:4490. Prints the layer id."""

import argparse
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsCoordinateReferenceSystem, QgsDataSourceUri, QgsProject, QgsVectorLayer  # noqa: E402

LAYER_NAME = "base_grids"
PRECISION = 7


def build(out: str, dbname: str, host: str, port: int, user: str) -> str:
    uri = QgsDataSourceUri()
    uri.setConnection(host, str(port), dbname, user, "")
    uri.setDataSource("public", "layers_grid", "geom", "level_id = 4", "id")
    uri.setSrid("4490")
    uri.setWkbType(6)  # QgsWkbTypes.MultiPolygon
    layer = QgsVectorLayer(uri.uri(False), LAYER_NAME, "postgres")
    if not layer.isValid():
        raise SystemExit(f"the PostGIS layer is not valid: {uri.uri(False)}")
    project = QgsProject.instance()
    project.clear()
    crs = QgsCoordinateReferenceSystem("EPSG:4490")
    project.setCrs(crs)
    project.setTitle("gridcity WFS benchmark")
    project.addMapLayer(layer)
    lid = layer.id()
    project.writeEntry("WMSServiceCapabilities", "/", True)
    project.writeEntry("WMSServiceTitle", "/", "gridcity WFS benchmark")
    project.writeEntry("WMSServiceAbstract", "/", "base_grids (layers_grid, level 4) for the WFS benchmark")
    project.writeEntry("WMSCrsList", "/", ["EPSG:4490", "EPSG:4326"])
    ext = layer.extent()
    project.writeEntry(
        "WMSExtent", "/", [str(ext.xMinimum()), str(ext.yMinimum()), str(ext.xMaximum()), str(ext.yMaximum())]
    )
    project.writeEntry("WFSLayers", "/", [lid])
    project.writeEntry("WFSLayersPrecision", "/" + lid, PRECISION)
    for op in ("Update", "Insert", "Delete"):
        project.writeEntry("WFSTLayers", op, [lid])
    if not project.write(out):
        raise SystemExit(f"could not write {out}")
    return lid


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--dbname", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=54329)
    p.add_argument("--user", default="postgres")
    a = p.parse_args(argv)
    if "bench" not in a.dbname:
        raise SystemExit("the database name must contain 'bench'")
    qgs = QgsApplication([], False)
    qgs.initQgis()
    try:
        lid = build(os.path.abspath(a.out), a.dbname, a.host, a.port, a.user)
        print(lid)
    finally:
        QgsProject.instance().clear()
        qgs.exitQgis()


if __name__ == "__main__":
    sys.exit(main())
