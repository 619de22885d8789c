import datetime as dt

from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command

from layers.models import Grid, GridLevel
from layers.patrols.models import PatrolAssignment, PatrolFix, QuarantinedFix

from .conftest import LAT, LON


def test_demo_patrols_walk_their_grids_through_ingest(db, capsys):
    GridLevel.objects.get_or_create(level=4, defaults={"slug": "base", "name": "单元网格", "code_length": 15})
    for n in range(2):
        x = LON + n * 0.01
        square = Polygon.from_bbox((x, LAT, x + 0.005, LAT + 0.005))
        square.srid = 4490
        Grid.objects.create(
            code=f"37081200100100{n}", name=f"网格{n}", level_id=4, geom=MultiPolygon(square, srid=4490)
        )
    day = dt.date.today() - dt.timedelta(days=1)
    call_command("load_demo_patrols", "--workers", "2", "--every", "120", "--date", day.isoformat())
    assert "2 workers" in capsys.readouterr().out
    assert PatrolAssignment.objects.count() == 2
    assert PatrolFix.objects.values("worker").distinct().count() == 2
    assert PatrolFix.objects.filter(source_crs="WGS84").exists()
    assert not QuarantinedFix.objects.exclude(reason="impossible_speed").exists()
    call_command("load_demo_patrols", "--workers", "2", "--if-empty")
    assert "skipped" in capsys.readouterr().out
