"""Each shared rule has a scalar form (the services) and a vectorised form (the importer): on the same
inputs, edge cases included, both must give the same verdict and the same words."""

import datetime as dt

import numpy as np
import pytest
import shapely

from components.ids import id_error, id_errors_array
from components.models import ComponentClass
from components.validation import (
    ADMIN_CODE_FORMAT,
    CHANGE_BEFORE_CENSUS,
    COMMUNITY_CODE_FORMAT,
    STREET_CODE_FORMAT,
    code_hierarchy_errors,
    code_hierarchy_errors_array,
    date_order_errors_array,
)
from gis_core.geometry import district_bbox, geometry_error, geometry_errors_array

_CODES = [
    "3708120118000001",
    "37081201180001",
    "3708120118000000",
    "3708120305000001",
    "3708130118000001",
    "370812011800000１",
    "³708120118000001",
    "370812010370000001",
    "37081201037000001",
    "",
    "abc",
    None,
    42,
    "3708120118000001 ",
]


@pytest.mark.django_db
@pytest.mark.parametrize("class_code", ["0118", "01037", None])
@pytest.mark.parametrize("admin", ["370812", "370813", None])
def test_id_rule_scalar_and_array_agree(class_code, admin):
    cls = ComponentClass.objects.select_related("scheme").get(code=class_code) if class_code else None
    n = len(_CODES)
    got = id_errors_array(
        np.array(_CODES, dtype=object),
        np.array([cls.code if cls else ""] * n, dtype=object),
        np.array([cls.scheme.code if cls else ""] * n, dtype=object),
        np.array([admin] * n, dtype=object),
    )
    assert got.tolist() == [id_error(c, cls, admin) for c in _CODES]


@pytest.mark.django_db
def test_id_rule_array_with_a_class_and_admin_of_its_own_per_row():
    classes = [None, *ComponentClass.objects.select_related("scheme").filter(code__in=["0118", "01037", "0305"])]
    rows = [(c, cls, admin) for c in _CODES for cls in classes for admin in ("370812", "370813", None)]
    got = id_errors_array(
        np.array([r[0] for r in rows], dtype=object),
        np.array([r[1].code if r[1] else "" for r in rows], dtype=object),
        np.array([r[1].scheme.code if r[1] else "" for r in rows], dtype=object),
        np.array([r[2] for r in rows], dtype=object),
    )
    assert got.tolist() == [id_error(*r) for r in rows]


_HIERARCHY = [
    ("370812", "", ""),
    ("", "", ""),
    ("37081", "", ""),
    ("３70812", "", ""),
    ("370812", "370812001", ""),
    ("370812", "370813001", ""),
    ("370812", "37081200¹", ""),
    ("370812", "3708120011", ""),
    ("370812", "370812001", "370812001002"),
    ("370812", "370812001", "370812002002"),
    ("370812", "", "370812000001"),
    ("370812", "", "370813000001"),
    ("370812", "", "37081200000１"),
    ("abcdef", "abcdef123", "abcdef123456"),
    ("", "370812001", "370812001002"),
]


def test_code_hierarchy_scalar_and_array_agree():
    admin, street, community = (np.array(c, dtype=object) for c in zip(*_HIERARCHY))
    flags = code_hierarchy_errors_array(admin, street, community)
    texts = {
        "admin_code": ADMIN_CODE_FORMAT,
        "street_code": STREET_CODE_FORMAT,
        "community_code": COMMUNITY_CODE_FORMAT,
    }
    for i, row in enumerate(_HIERARCHY):
        from_array = {name: texts[name] for name, bad in flags.items() if bad[i]}
        assert from_array == code_hierarchy_errors(*row), row


def test_geometry_scalar_and_array_agree():
    x0, y0, x1, y1 = district_bbox()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    geoms = [
        None,
        shapely.Point(cx, cy),
        shapely.Point(cx, cy, 5),
        shapely.Point(),
        shapely.Point(float("nan"), cy),
        shapely.Point(float("inf"), cy),
        shapely.Point(x1 + 1, cy),
        shapely.Point(cy, cx),
        shapely.LineString([(cx, cy), (cx + 0.001, cy)]),
        shapely.MultiPoint([(cx, cy), (cx, cy + 0.001)]),
        shapely.Polygon([(cx, cy), (cx + 0.01, cy + 0.01), (cx + 0.01, cy), (cx, cy + 0.01), (cx, cy)]),  # bow-tie
        shapely.box(cx, cy, cx + 0.01, cy + 0.01),
        shapely.GeometryCollection([shapely.Point(cx, cy)]),
        shapely.LinearRing([(cx, cy), (cx + 0.01, cy), (cx, cy + 0.01)]),
        shapely.box(x0 - 1, y0, x1, y1),
    ]
    got = geometry_errors_array(np.array(geoms, dtype=object))
    assert got.tolist() == [geometry_error(g) for g in geoms]
    assert (
        "wrong CRS (EPSG:4527) or axis" in geometry_errors_array(np.array([geoms[6]], dtype=object), crs="EPSG:4527")[0]
    )


def test_date_order_array_matches_the_scalar_rule():
    d = dt.date(2024, 5, 1)
    census = [d, d, d, None, d, ValueError("x"), d]
    change = [dt.date(2024, 4, 30), d, dt.date(2024, 5, 2), d, None, dt.date(2020, 1, 1), ValueError("y")]
    # The scalar rule lives in component_errors: change before census, both given.
    expected = [isinstance(a, dt.date) and isinstance(b, dt.date) and b < a for a, b in zip(census, change)]
    assert (
        date_order_errors_array(census, change).tolist() == expected == [True, False, False, False, False, False, False]
    )
    assert CHANGE_BEFORE_CENSUS == "is before the census date"


@pytest.mark.parametrize("name", ["name", "location_desc", "street_code", "grid_code", "note"])
def test_text_rule_scalar_and_array_agree(name):
    from components.validation import MAX_LENGTH, text_errors, text_errors_array

    limit = MAX_LENGTH[name]
    texts = [
        "",
        "府河路 1号",
        "a\tb",
        "two\nlines\r\n",
        "x\u200by",
        "\ufeffBOM",
        "evil\u202etxt",
        "\x85",
        "\x07",
        "\U000e0001tag",
        "a" * limit,
        "a" * (limit + 1),
        "号" * (limit + 1),
        "\u200b" + "a" * (limit + 1),
    ]
    got = text_errors_array(name, np.array(texts, dtype=object))
    assert got.tolist() == [text_errors({name: t}).get(name) for t in texts]


def test_attributes_scalar_and_array_agree():
    from components.attributes import NOT_AN_OBJECT, attribute_errors, attributes_from_json, attributes_from_json_array

    schema = {"height": {"type": "number", "required": True, "max": 30}, "kind": {"enum": ["led", "sodium"]}}
    texts = [
        "",
        "{}",
        '{"height": 8}',
        '{"height": 8, "kind": "led"}',
        '{"height": 31}',
        '{"height": "8"}',
        '{"height": true}',
        '{"colour": 1, "height": 1}',
        "[1, 2]",
        "3",
        "null",
        "{",
        '{"kind": "gas", "height": 2}',
        "[" * 5000 + "]" * 5000,
        '{"height": 8}',
    ]
    for schemas in ([schema] * len(texts), [None] * len(texts), [schema, None] * 7 + [schema]):
        keys = [1 if s is not None else 0 for s in schemas]
        got = attributes_from_json_array(np.array(texts, dtype=object), np.array(schemas, dtype=object), np.array(keys))
        assert got.tolist() == [attributes_from_json(t, s) for t, s in zip(texts, schemas)]
    assert attribute_errors(schema, [1]) == {"attributes": NOT_AN_OBJECT} == attributes_from_json("[1]", None)


def test_class_rule_scalar_and_array_agree():
    from types import SimpleNamespace

    from components.validation import class_error, class_errors_array

    classes = [None, SimpleNamespace(code="0118", active=True), SimpleNamespace(code="0305", active=False), None]
    assert class_errors_array(np.array(classes, dtype=object)).tolist() == [class_error(c) for c in classes]
    assert class_errors_array(np.array([], dtype=object)).tolist() == []
