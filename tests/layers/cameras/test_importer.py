from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command

from layers.cameras.models import Camera, Ptz, State
from layers.models import Grid, GridLevel

from .conftest import LAT, LON, device_id

CSV = f"""DeviceID,Name,Longitude,Latitude,PTZType,Status,DirectionType,Manufacturer
{device_id(1)},东门路口,{LON},{LAT},1,ON,1,Hikvision
{device_id(2)},西门路口,{LON + 0.001},{LAT},3,OFF,,Dahua
{device_id(3, "118")},录像机,{LON},{LAT},,ON,,Hikvision
{device_id(4)},区外,121.5,31.2,3,ON,4,Hikvision
{device_id(5)},方向错,{LON},{LAT},3,ON,9,Hikvision
"""


def test_a_catalogue_csv_imports_with_a_row_report(db, tmp_path, capsys):
    path = tmp_path / "catalogue.csv"
    path.write_text(CSV, encoding="utf-8")
    call_command("import_cameras", str(path))
    out = capsys.readouterr().out
    assert "2 created, 0 updated, 3 refused" in out
    assert "line 4" in out and "device_id" in out and "line 5" in out and "lon" in out and "DirectionType" in out
    east = Camera.objects.get(device_id=device_id(1))
    assert east.azimuth == 90 and east.ptz == Ptz.DOME and east.state == State.ONLINE
    assert Camera.objects.get(device_id=device_id(2)).state == State.OFFLINE
    call_command("import_cameras", str(path))
    assert "0 created, 2 updated, 3 refused" in capsys.readouterr().out


def test_demo_cameras_stand_at_junctions_then_mid_block(db, capsys):
    GridLevel.objects.get_or_create(level=4, defaults={"slug": "base", "name": "单元网格", "code_length": 15})
    square = Polygon.from_bbox((116.82, 35.54, 116.84, 35.56))
    square.srid = 4490
    Grid.objects.create(code="370812001001001", name="网格", level_id=4, geom=MultiPolygon(square, srid=4490))
    call_command("load_demo_cameras", "--scale", "tiny", "--count", "20")
    assert "20 created (20 at junctions, 0 mid-block, tiny roads)" in capsys.readouterr().out
    assert Camera.objects.exclude(grid_code="").exists()
    call_command("load_demo_cameras", "--if-empty")
    assert "skipped" in capsys.readouterr().out


def test_demo_sites_fill_up_with_mid_block_cameras_looking_along_the_road(db):
    from layers.cameras.demo import sites

    places = sites("tiny", 1)
    kinds = [p[4] for p in places]
    first_mid = kinds.index("mid_block")
    assert first_mid > 0 and set(kinds[first_mid:]) == {"mid_block"}  # junctions first
    assert all(0 <= p[2] < 360 for p in places)


def test_export_and_import_commands_round_trip_an_xlsx(db, tmp_path, capsys):
    call_command("import_cameras", str(_csv(tmp_path)))
    capsys.readouterr()
    out = tmp_path / "cameras.xlsx"
    call_command("export_cameras", str(out))
    assert "cameras: 2 written" in capsys.readouterr().out
    call_command("import_cameras", str(out))
    assert "0 created, 2 updated, 0 refused" in capsys.readouterr().out


def _csv(tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_the_city_network_has_room_for_8600_cameras_a_third_mid_block(db):
    from layers.cameras.demo import COUNTS, sites

    places = sites("city", 1)[: COUNTS["city"]]
    assert len(places) == 8600
    kinds = [p[4] for p in places]
    assert 2500 < kinds.count("mid_block") < 3200  # 2,891 junctions, two cameras at most junctions
