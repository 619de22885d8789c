import pytest

from components import roles
from tests.factories import make_user

# A street corner in 兖州 (inside the district box).
LON, LAT = 116.8255, 35.5455


@pytest.fixture
def worker(db):
    return make_user("patrol_worker", roles.GRID_WORKER)


@pytest.fixture
def other_worker(db):
    return make_user("patrol_other_worker", roles.GRID_WORKER)


@pytest.fixture
def dispatcher(db):
    return make_user("patrol_dispatcher", roles.DISPATCHER)
