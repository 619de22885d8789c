import re

import pytest
from django.contrib.auth import get_user_model

from layers.grids.services import create_grid
from layers.models import Grid
from tests.layers.test_grid_topology import box

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-123456")
    client.force_login(user)
    return client


def _wkt(poly):
    return f"SRID=4490;MULTIPOLYGON((({', '.join(f'{x} {y}' for x, y in poly.coords[0])})))"


def test_admin_grid_edit_is_refused_with_the_topology_message(admin_client):
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))
    create_grid(code="370812001", name="A", level=2, parent_code="370812", geom=box(0, 0, 0.05, 0.1))
    r = admin_client.post(
        "/admin/layers/grid/add/",
        {
            "code": "370812002",
            "name": "B",
            "level": 2,
            "parent_code": "370812",
            "geom": _wkt(box(0.04, 0, 0.1, 0.1)),
            "staff-TOTAL_FORMS": 0,
            "staff-INITIAL_FORMS": 0,
        },
    )
    assert r.status_code == 200
    assert "overlaps grid 370812001" in r.content.decode()
    assert not Grid.objects.filter(code="370812002").exists()
    r = admin_client.post(
        "/admin/layers/grid/add/",
        {
            "code": "370812002",
            "name": "B",
            "level": 2,
            "parent_code": "370812",
            "geom": _wkt(box(0.05, 0, 0.1, 0.1)),
            "staff-TOTAL_FORMS": 0,
            "staff-INITIAL_FORMS": 0,
        },
    )
    assert r.status_code == 302
    assert Grid.objects.get(code="370812002").area_m2 > 0


def test_admin_grid_page_loads_nothing_from_the_web(admin_client):
    grid = create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))
    html = admin_client.get(f"/admin/layers/grid/{grid.pk}/change/").content.decode()
    assert "vendor/ol/ol.js" in html
    assert not re.findall(r"""(?:src|href)=["']https?://""", html)
