"""Roads from an OGR layer: all rows or none, LineStrings promoted, transformed to EPSG:4490."""

import numpy as np
import pyogrio.raw
import pytest
import shapely
from django.core.management import CommandError, call_command

from layers.roads.models import Road
from layers.roads.services import import_roads


def _gpkg(tmp_path, geoms, widths, crs="EPSG:4490"):
    path = tmp_path / "roads.gpkg"
    pyogrio.raw.write(
        path,
        np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
        [np.array([f"路{i}" for i in range(len(geoms))], dtype=object), np.array(widths, dtype=object)],
        fields=["name", "width_m"],
        layer="roads",
        crs=crs,
        geometry_type="Unknown",
    )
    return path


LINE = shapely.LineString([(116.82, 35.54), (116.83, 35.545)])


def test_imports_every_row_and_replaces(db, tmp_path):
    multi = shapely.MultiLineString([[(116.80, 35.54), (116.81, 35.54)], [(116.81, 35.54), (116.81, 35.55)]])
    path = _gpkg(tmp_path, [LINE, multi], ["14", "24.5"])
    report = import_roads(path, "roads")
    assert report.ok and report.created == 2
    assert Road.objects.get(name="路1").width_m == 24.5
    assert Road.objects.get(name="路0").geom.geom_type == "MultiLineString"
    again = import_roads(path, "roads", replace=True)
    assert again.deleted == 2 and Road.objects.count() == 2


def test_a_bad_row_writes_nothing_and_names_the_row(db, tmp_path):
    path = _gpkg(tmp_path, [LINE, shapely.Point(116.82, 35.54), LINE], ["14", "14", "wide"])
    report = import_roads(path, "roads")
    assert not report.ok and Road.objects.count() == 0
    assert [(e.row, e.field) for e in report.errors] == [(2, "geometry"), (3, "width_m")]


def test_projected_layers_are_transformed(db, tmp_path):
    gk = shapely.LineString([(39_483_000, 3_933_000), (39_483_500, 3_933_000)])  # EPSG:4527, zone 39
    import_roads(_gpkg(tmp_path, [gk], [None], crs="EPSG:4527"), "roads")
    road = Road.objects.get()
    assert 116.7 < road.geom.extent[0] < 117.0 and 35.4 < road.geom.extent[1] < 35.7


def test_the_command_reports_and_refuses(db, tmp_path, capsys):
    path = _gpkg(tmp_path, [LINE], ["14"])
    call_command("import_roads", str(path), "--layer", "roads")
    assert "1 imported" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_roads", str(tmp_path / "none.gpkg"))
    with pytest.raises(CommandError, match="layer"):
        call_command("import_roads", str(path), "--layer", "streets")
