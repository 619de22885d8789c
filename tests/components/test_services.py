import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.contrib.gis.geos import Point

from components.models import Component, ComponentClass, ComponentState
from components.services import ServiceError, add_photo, create_component, update_component
from tests.factories import ComponentFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_distinct_consecutive_ids():
    cls = ComponentClass.objects.get(code="0305")
    intact = ComponentState.objects.get(code="intact")
    codes, errors = [], []

    def worker(i):
        try:
            for j in range(10):
                c = create_component(component_class=cls, state=intact,
                                     geom=Point(116.83 + i * 0.001, 35.55 + j * 0.0001, srid=4490))
                codes.append(c.code)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(codes)) == 60
    assert sorted(int(c[-6:]) for c in codes) == list(range(1, 61))


@pytest.mark.django_db
def test_update_refuses_class_change_and_bad_geometry():
    c = ComponentFactory()
    with pytest.raises(ServiceError) as err:
        update_component(c, component_class=ComponentClass.objects.get(code="0101"))
    assert "component_class" in err.value.errors
    with pytest.raises(ServiceError) as err:
        update_component(c, geom=Point(0, 0, srid=4490))
    assert "outside the district" in err.value.errors["geom"]
    c.refresh_from_db()
    assert c.geom.x > 116


@pytest.mark.django_db
def test_unchanged_update_writes_no_history():
    from components.models import ComponentEvent

    c = ComponentFactory()
    before = ComponentEvent.objects.filter(pgh_obj_id=c.pk).count()
    update_component(c, name=c.name)
    assert ComponentEvent.objects.filter(pgh_obj_id=c.pk).count() == before


@pytest.mark.django_db
def test_photos_are_checked_by_their_bytes(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    c = ComponentFactory()
    photo = add_photo(c, SimpleUploadedFile("x.png", PNG, content_type="image/png"), caption="现场照片")
    assert photo.image.name.endswith(".png")
    with pytest.raises(ServiceError):
        add_photo(c, SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png"))
    assert c.photos.count() == 1


@pytest.mark.django_db
def test_database_refuses_invalid_geometry_even_from_raw_sql():
    from django.db import IntegrityError, transaction

    c = ComponentFactory()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE components_component SET geom = ST_GeomFromText("
                    "'POLYGON((116.83 35.55,116.84 35.56,116.84 35.55,116.83 35.56,116.83 35.55))', 4490) WHERE id = %s",
                    [c.pk])
    assert Component.objects.get(pk=c.pk).geom.geom_type == "Point"
