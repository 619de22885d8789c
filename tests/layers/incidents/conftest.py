import pytest
from django.contrib.gis.geos import Point

from components import roles
from components.models import ComponentClass
from tests.factories import ComponentFactory, OrganisationFactory, make_user

# A street corner in 兖州 (inside the district box), and a streetlight on it.
LON, LAT = 116.8255, 35.5455


@pytest.fixture
def unit(db):
    return OrganisationFactory(name="兖州区路灯管理所")


@pytest.fixture
def other_unit(db):
    return OrganisationFactory(name="兖州区市政养护所")


@pytest.fixture
def streetlight(unit):
    return ComponentFactory(
        component_class=ComponentClass.objects.get(code="0118"), geom=Point(LON, LAT, srid=4490), maintainer=unit
    )


@pytest.fixture
def dispatcher(db):
    return make_user("case_dispatcher", roles.DISPATCHER)


@pytest.fixture
def grid_worker(db):
    return make_user("case_grid_worker", roles.GRID_WORKER)


@pytest.fixture
def unit_user(unit):
    return make_user("case_unit_user", roles.MAINTENANCE_UNIT, organisation=unit)


@pytest.fixture
def other_unit_user(other_unit):
    return make_user("case_other_unit_user", roles.MAINTENANCE_UNIT, organisation=other_unit)


@pytest.fixture
def admin_user(db):
    return make_user("case_admin", roles.ADMINISTRATOR)
