import pytest

from layers.cameras import gbt28181

from .conftest import device_id


@pytest.mark.parametrize("kind", ["131", "132"])
def test_cameras_are_accepted(kind):
    assert gbt28181.problem(device_id(1, kind)) is None


@pytest.mark.parametrize(
    "value, words",
    [
        ("3708120008132100000", "20位"),  # 19 digits
        ("370812000813210000001", "20位"),
        ("37081200081321000a01", "20位"),
        ("11010200081321000001", "行政区划"),  # Beijing's code, not this district's
        (device_id(1, "118"), "NVR"),
        (device_id(1, "200"), "平台"),
        (device_id(1, "216"), "平台"),
        (device_id(1, "111"), "非摄像机"),
    ],
)
def test_other_ids_are_refused_with_the_reason(value, words):
    assert words in gbt28181.problem(value)


def test_parts():
    p = gbt28181.parts("37081200081321000042")
    assert p == {"centre": "37081200", "industry": "08", "type": "132", "network": "1", "serial": "000042"}
