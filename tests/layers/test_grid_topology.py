import threading

import pytest
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.utils import timezone

from gis_core.errors import ServiceError
from layers.grids.services import create_grid, delete_grid, grid_as_of, update_grid
from layers.models import Grid, GridVersion

X0, Y0 = 116.80, 35.52


def box(x0, y0, x1, y1):
    return Polygon.from_bbox((X0 + x0, Y0 + y0, X0 + x1, Y0 + y1))


@pytest.fixture
def district(db):
    return create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))


def test_siblings_may_share_a_border_and_area_is_in_square_metres(district):
    a = create_grid(code="370812001", name="鼓楼街道", level=2, parent_code="370812", geom=box(0, 0, 0.05, 0.1))
    create_grid(code="370812002", name="酒仙桥街道", level=2, parent_code="370812", geom=box(0.05, 0, 0.1, 0.1))
    # 0.05 deg of longitude x 0.1 deg of latitude at 35.5N: about 4.53 km x 11.09 km.
    assert 49.5e6 < a.area_m2 < 51e6


def test_overlapping_sibling_is_refused_with_place(district):
    create_grid(code="370812001", name="A", level=2, parent_code="370812", geom=box(0, 0, 0.05, 0.1))
    with pytest.raises(ServiceError) as err:
        create_grid(code="370812002", name="B", level=2, parent_code="370812", geom=box(0.04, 0, 0.1, 0.1))
    assert "overlaps grid 370812001" in err.value.errors["geom"]
    assert "POINT(" in err.value.errors["geom"]


def test_child_outside_parent_is_refused(district):
    with pytest.raises(ServiceError) as err:
        create_grid(code="370812001", name="A", level=2, parent_code="370812", geom=box(0.05, 0.05, 0.2, 0.2))
    assert "outside its parent" in err.value.errors["geom"]


@pytest.mark.parametrize("where", ["district", "street"])
def test_grid_outside_the_district_is_refused(district, settings, where):
    settings.GRIDCITY_DISTRICT_BBOX = (X0, Y0, X0 + 0.1, Y0 + 0.1)
    with pytest.raises(ServiceError) as err:
        if where == "district":  # the top of the tree has no parent to be checked against
            create_grid(code="370813", name="far", level=1, geom=box(1, 1, 1.1, 1.1))
        else:
            update_grid("370812", geom=box(0, 0, 0.1, 0.2))
    assert "outside the district" in err.value.errors["geom"]
    assert not Grid.objects.filter(code="370813").exists()
    assert Grid.objects.get(code="370812").geom.extent[3] == pytest.approx(Y0 + 0.1)


def test_grid_on_the_district_edge_is_accepted_within_the_tolerance(district, settings):
    settings.GRIDCITY_DISTRICT_BBOX = (X0, Y0, X0 + 0.1, Y0 + 0.1)
    update_grid("370812", geom=box(0, 0, 0.1, 0.1002))


def test_control_characters_in_a_grid_name_are_refused(district):
    with pytest.raises(ServiceError) as err:
        create_grid(code="370812001", name="鼓楼\u202e街道", level=2, parent_code="370812", geom=box(0, 0, 0.05, 0.1))
    assert "U+202E" in err.value.errors["name"]
    with pytest.raises(ServiceError) as err:
        update_grid("370812", name="兖州\x1b区")
    assert "name" in err.value.errors
    assert Grid.objects.get(code="370812").name == "兖州区"


def test_bowtie_is_refused_naming_the_self_intersection(district):
    bowtie = Polygon(((X0, Y0), (X0 + 0.01, Y0 + 0.01), (X0 + 0.01, Y0), (X0, Y0 + 0.01), (X0, Y0)), srid=4490)
    with pytest.raises(ServiceError) as err:
        create_grid(code="370812001", name="A", level=2, parent_code="370812", geom=bowtie)
    assert "Self-intersection" in err.value.errors["geom"]


def test_shrinking_parent_below_its_children_is_refused(district):
    create_grid(code="370812001", name="A", level=2, parent_code="370812", geom=box(0, 0, 0.05, 0.1))
    with pytest.raises(ServiceError) as err:
        update_grid("370812", geom=box(0.02, 0, 0.1, 0.1))
    assert "no longer contains" in err.value.errors["geom"]


def test_versions_are_kept_and_queryable_as_of_a_date(district):
    between = timezone.now()
    grid = update_grid("370812", name="兖州区(新)")
    assert grid.pk == district.pk and grid.version == 2
    assert GridVersion.objects.filter(code="370812").count() == 2
    assert grid_as_of("370812", between).name == "兖州区"
    assert grid_as_of("370812", timezone.now()).name == "兖州区(新)"


def test_sql_edits_are_versioned_too(district):
    with connection.cursor() as cur:
        cur.execute("UPDATE layers_grid SET name = '兖州' WHERE code = '370812'")
    versions = list(GridVersion.objects.filter(code="370812").order_by("version"))
    assert [v.name for v in versions] == ["兖州区", "兖州"]
    assert versions[0].valid_to is not None and versions[1].valid_to is None


def test_parent_with_children_cannot_be_deleted(district):
    create_grid(code="370812001", name="A", level=2, parent_code="370812", geom=box(0, 0, 0.05, 0.1))
    with pytest.raises(ServiceError) as err:
        delete_grid("370812")
    assert "child grids" in err.value.errors["geom"]
    delete_grid("370812001")
    delete_grid("370812")
    assert GridVersion.objects.filter(code="370812", valid_to__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_writers_never_both_commit():
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))
    for attempt in range(8):
        outcomes = []
        barrier = threading.Barrier(2)

        def writer(code, geom, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                create_grid(code=code, name=code, level=2, parent_code="370812", geom=geom)
                outcomes.append("ok")
            except ServiceError:
                outcomes.append("refused")
            finally:
                connection.close()

        base = f"370812{attempt:01d}"
        threads = [
            threading.Thread(target=writer, args=(f"{base}01", box(0, 0, 0.06, 0.1))),
            threading.Thread(target=writer, args=(f"{base}02", box(0.04, 0, 0.1, 0.1))),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["ok", "refused"], outcomes
        Grid.objects.filter(level_id=2).delete()
        assert Grid.objects.filter(level_id=2).count() == 0
