import threading

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

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
                c = create_component(
                    component_class=cls, state=intact, geom=Point(116.83 + i * 0.001, 35.55 + j * 0.0001, srid=4490)
                )
                codes.append(c.code)
        except Exception as exc:  # noqa: BLE001 - reported below
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
        cur.execute(
            "UPDATE components_component SET geom = ST_GeomFromText("
            "'POLYGON((116.83 35.55,116.84 35.56,116.84 35.55,116.83 35.56,116.83 35.55))', 4490) WHERE id = %s",
            [c.pk],
        )
    assert Component.objects.get(pk=c.pk).geom.geom_type == "Point"


@pytest.mark.django_db
def test_organisations_move_only_by_transfer():
    from components.models import OwnershipTransfer
    from components.services import transfer_ownership
    from tests.factories import OrganisationFactory, make_user

    c = ComponentFactory()
    new = OrganisationFactory()
    for role in ("owner", "maintainer", "department"):
        with pytest.raises(ServiceError) as err:
            update_component(c, **{role: new})
        assert role in err.value.errors and "transfer" in err.value.errors[role]
    unit = make_user("svc-unit", "maintenance_unit", organisation=c.owner)
    with pytest.raises(ServiceError) as err:
        transfer_ownership([c], role="owner", to_org=new, user=unit)
    assert "role" in err.value.errors
    assert not OwnershipTransfer.objects.exists()
    transfer_ownership([c], role="owner", to_org=new, user=make_user("svc-editor", "gis_editor"))
    c.refresh_from_db()
    assert c.owner == new and OwnershipTransfer.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "location_desc", "note"])
def test_services_refuse_control_characters_without_a_serializer(field):
    c = ComponentFactory(name="原名")
    with pytest.raises(ServiceError) as err:
        update_component(c, **{field: "a\u202eb\x07"})
    assert field in err.value.errors
    update_component(c, note="第一行\n第二行\t")  # notes may span lines


def test_gis_core_bad_character():
    from gis_core.text import bad_character

    assert bad_character("府河路 1号") is None
    assert "U+202E" in bad_character("abc\u202edef")
    assert "U+0007" in bad_character("\x07")
    assert "U+001B" in bad_character("\x1b[31m")
    assert bad_character("a\nb") and bad_character("a\nb", multiline=True) is None
    assert bad_character("a\tb\r\n", multiline=True) is None
    assert bad_character("\ufeffBOM", multiline=True)
