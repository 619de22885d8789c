import threading

import pytest
from django.db import connection

from components.ids import allocate_ids, id_error
from components.models import ComponentClass
from components.services import ServiceError, retire_component
from tests.factories import ComponentFactory


@pytest.mark.django_db
def test_ids_follow_the_standard_layout():
    c = ComponentFactory()
    assert len(c.code) == 16 and c.code.startswith("3708120118")
    assert c.code.endswith("000001") or int(c.code[-6:]) >= 1


@pytest.mark.django_db
def test_gbt47678_class_gets_17_digit_id():
    c = ComponentFactory(component_class=ComponentClass.objects.get(code="01037"))
    assert len(c.code) == 17 and c.code[6:11] == "01037"


@pytest.mark.django_db
def test_retired_id_is_never_reused():
    first = ComponentFactory()
    retire_component(first, reason="拆除")
    second = ComponentFactory()
    assert int(second.code[-6:]) == int(first.code[-6:]) + 1


@pytest.mark.django_db
def test_given_id_advances_the_counter():
    given = ComponentFactory(code="3708120118000500")
    assert given.code == "3708120118000500"
    assert ComponentFactory().code == "3708120118000501"
    with pytest.raises(ServiceError) as err:
        ComponentFactory(code="3708120118000500")
    assert "already registered" in err.value.errors["code"]
    with pytest.raises(ServiceError) as err:
        ComponentFactory(code="3708120101000900")  # class digits do not match 0118
    assert "class code" in err.value.errors["code"]


@pytest.mark.parametrize(
    "code,reason",
    [
        ("37081201180000", "16"),
        ("370812011800000a", "16"),
        ("3708120118000000", "000000"),
    ],
)
def test_malformed_ids_are_refused(code, reason):
    assert reason in id_error(code)


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocation_never_collides():
    cls = ComponentClass.objects.get(code="0101")
    results, errors = [], []

    def worker():
        try:
            for _ in range(25):
                results.extend(allocate_ids("370812", cls, 2))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 400 and len(set(results)) == 400
