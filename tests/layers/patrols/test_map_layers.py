import datetime as dt
import gzip

import mapbox_vector_tile
import mercantile
from django.test import Client
from django.utils import timezone

from components import roles
from layers import catalogue
from tests.factories import make_user

from .conftest import LAT, LON
from .helpers import fix, post

PASSWORD = "test-pass-123"


def _tile(user, layer, z=16, query=""):
    tile = mercantile.tile(LON + 0.0001, LAT, z)
    c = Client()
    c.force_login(user)
    answer = c.get(f"/tiles/{layer}/{z}/{tile.x}/{tile.y}.mvt{query}")
    assert answer.status_code in (200, 204), answer.content[:300]
    if answer.status_code == 204 or not answer.content:
        return []
    body = gzip.decompress(answer.content) if answer.get("Content-Encoding") == "gzip" else answer.content
    return mapbox_vector_tile.decode(body).get(layer, {}).get("features", [])


def test_layers_are_declared_read_only():
    for layer_id in ("tracks", "patrol_positions"):
        layer = catalogue.get(layer_id)
        assert layer is not None and not layer.editable and layer.group == "巡查"


def test_a_days_fixes_are_one_line_in_the_tracks_tile(worker, dispatcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(worker, {"fixes": [fix(i) for i in range(30)]}).json()["stored"] == 30
    features = _tile(dispatcher, "tracks")
    assert len(features) == 1
    line = features[0]
    assert line["geometry"]["type"] == "LineString"
    assert line["properties"]["worker"] == worker.username and line["properties"]["fix_count"] == 30
    assert _tile(dispatcher, "tracks", query=f"?worker={worker.username}")
    assert not _tile(dispatcher, "tracks", query="?date=2001-01-01")


def test_a_worker_sees_only_their_own_track(worker, other_worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(worker, {"fixes": [fix(i) for i in range(10)]})
        post(other_worker, {"fixes": [fix(i, lat=LAT + 0.0001) for i in range(10)]})
    seen = {f["properties"]["worker"] for f in _tile(worker, "tracks")}
    assert seen == {worker.username}
    unit = make_user("patrol_unit_user", roles.MAINTENANCE_UNIT)
    c = Client()
    c.force_login(unit)
    tile = mercantile.tile(LON, LAT, 16)
    assert c.get(f"/tiles/tracks/16/{tile.x}/{tile.y}.mvt").status_code in (403, 404, 204)


def test_positions_show_the_last_fix_of_workers_on_duty(worker, dispatcher, django_capture_on_commit_callbacks):
    recent = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        post(worker, {"fixes": [fix(i, start=recent) for i in range(3)]})
    features = _tile(dispatcher, "patrol_positions")
    assert [f["properties"]["worker"] for f in features] == [worker.username]


def test_tracks_filter_by_grid_and_unit(worker, dispatcher, django_capture_on_commit_callbacks):
    from layers.patrols.models import PatrolAssignment
    from tests.factories import OrganisationFactory

    with django_capture_on_commit_callbacks(execute=True):
        post(worker, {"fixes": [fix(i) for i in range(10)]})
    today = timezone.localdate()
    PatrolAssignment.objects.create(worker=worker, grid_code="370882001001", valid_from=today - dt.timedelta(days=3))
    assert _tile(dispatcher, "tracks", query="?grid=370882001001")
    assert not _tile(dispatcher, "tracks", query="?grid=370882009009")
    unit = OrganisationFactory(name="兖州区综合执法局")
    other = OrganisationFactory(name="兖州区市政养护所")
    from components.models import UserProfile

    UserProfile.objects.create(user=worker, organisation=unit)
    assert _tile(dispatcher, "tracks", query=f"?unit={unit.uscc}")
    assert not _tile(dispatcher, "tracks", query=f"?unit={other.uscc}")
