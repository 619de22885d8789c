"""A case's base grid, community and street codes are looked up at registration and kept when the
grids change later; the routing table matches the most specific grid level first."""

import pytest

from layers.grids.services import update_grid
from layers.incidents import services
from layers.incidents.models import CaseClass, RoutingRule
from tests.layers.test_grid_assignment import box, build_hierarchy

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db
BASE, COMMUNITY, STREET = "37081200100101", "370812001001", "370812001"


def test_codes_are_fixed_at_registration_and_kept_after_a_boundary_edit(dispatcher):
    build_hierarchy()
    case = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    assert (case.grid_code, case.community_code, case.street_code) == (BASE, COMMUNITY, STREET)
    update_grid(BASE, geom=box(0, 0, 0.02, 0.1))  # the point now lies in no base grid
    case.refresh_from_db()
    assert case.grid_code == BASE


def test_routing_prefers_the_base_grid_over_the_community_over_everywhere(dispatcher, unit, other_unit):
    from tests.factories import OrganisationFactory

    build_hierarchy()
    garbage = CaseClass.objects.get(code="06010")
    everywhere = OrganisationFactory()
    RoutingRule.objects.create(case_class=garbage, grid_code="", organisation=everywhere)
    RoutingRule.objects.create(case_class=garbage, grid_code=COMMUNITY, organisation=other_unit)
    case = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    assert services.route(case) == other_unit
    RoutingRule.objects.create(case_class=garbage, grid_code=BASE, organisation=unit)
    assert services.route(case) == unit
