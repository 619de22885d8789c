import pytest

from components import roles
from layers.cameras import services
from tests.factories import make_user

# A street corner in 兖州 (inside the district box).
LON, LAT = 116.8255, 35.5455


def device_id(serial: int, kind: str = "132") -> str:
    return "37081200" + "08" + kind + "1" + f"{serial:06d}"


def values(serial: int = 1, **over) -> dict:
    base = {
        "device_id": device_id(serial),
        "name": f"路口{serial}",
        "lon": LON,
        "lat": LAT,
        "azimuth": 0,
        "h_fov": 90,
        "range_m": 100,
    }
    return {**base, **over}


@pytest.fixture
def editor(db):
    return make_user("camera_editor", roles.GIS_EDITOR)


@pytest.fixture
def dispatcher(db):
    return make_user("camera_dispatcher", roles.DISPATCHER)


@pytest.fixture
def camera(editor):
    return services.create(editor, values())
