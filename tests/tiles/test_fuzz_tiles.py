"""Odd z/x/y, layer names and query parameters against the tile, TileJSON, PNG and auth endpoints:
every answer is a tile, a 304 or a 4xx naming what is wrong, never a 5xx. Hypothesis draws from the
values that broke servers before (superscript digits, NUL, nan, huge numbers) and from arbitrary text;
the number of examples is bounded so `make test` stays quick."""

from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import roles
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db

ODD = [
    "0",
    "1",
    "16",
    "18",
    "19",
    "-1",
    "¹",
    "²³",
    "١٢",
    "１２",
    "1e3",
    "nan",
    "inf",
    "-inf",
    "0x10",
    " 1",
    "1 ",
    "99999999",
    "999999999999999999999",
    "9" * 5000,
    "\x00",
    "1\x00",
    "",
    ".",
    "..",
    "%",
    "%00",
    "1.5",
    "+1",
    "\u202e1",
    "\u0661",
    "NaN",
    "None",
    "null",
    "[]",
    "{}",
    "'",
    '"',
    "\\",
    "\n",
]
LAYERS = [
    "components",
    "grid_gaps",
    "components,grid_gaps",
    "components,components",
    "nope",
    "",
    "\x00",
    "components\x00",
    "²",
    "a" * 300,
    ",",
    "components," * 30,
]
PARAMS = ["class", "state", "owner", "maintainer", "grid", "bbox", "\x00", "z", "²", "class\x00"]
VALUES = [
    "0118",
    "01",
    "intact",
    "¹²",
    "\x00",
    "0118\x00",
    "nan",
    "9" * 5000,
    ",,,",
    "01," * 300,
    "",
    "37081200100101",
    "\u202e",
    "' OR 1=1 --",
]

segment = st.one_of(
    st.sampled_from(ODD), st.integers(min_value=-(2**70), max_value=2**70).map(str), st.text(max_size=12)
)
layer = st.one_of(st.sampled_from(LAYERS), st.text(max_size=20))
query = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(PARAMS), st.text(max_size=6)),
        st.one_of(st.sampled_from(VALUES), st.text(max_size=12)),
    ),
    max_size=3,
)


@st.composite
def tile_requests(draw):
    """A real tile of a real layer with one part (or none) replaced by an odd value: mostly-valid
    requests reach the code behind the first check."""
    z = draw(st.integers(0, 18))
    parts = {
        "layer": draw(st.sampled_from(["components", "grid_gaps", "components,grid_gaps"])),
        "z": str(z),
        "x": str(draw(st.integers(0, 2**z - 1))),
        "y": str(draw(st.integers(0, 2**z - 1))),
    }
    broken = draw(st.sampled_from(["layer", "z", "x", "y", "query", "none"]))
    if broken in ("z", "x", "y"):
        parts[broken] = draw(segment)
    elif broken == "layer":
        parts["layer"] = draw(layer)
    return parts, (draw(query) if broken == "query" else [])


FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


def _path(*parts) -> str:
    return "/".join(quote(p, safe=",") for p in parts)


@pytest.fixture
def clients(db):
    org = OrganisationFactory()
    ComponentFactory(owner=org)
    dispatcher, unit = Client(), Client()
    dispatcher.force_login(make_user("tile_fuzz_dispatcher", roles.DISPATCHER))
    unit.force_login(make_user("tile_fuzz_unit", roles.MAINTENANCE_UNIT, organisation=org))
    return dispatcher, unit


def _assert_client_error_at_most(response, url):
    assert response.status_code < 500, (url, response.status_code, response.content[:300])
    if response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
        assert response.json().get("message"), url


def test_vector_tiles_never_answer_a_server_error(clients):
    @FUZZ
    @given(request=tile_requests(), who=st.sampled_from([0, 1]))
    def check(request, who):
        parts, params = request
        url = f"/tiles/{_path(parts['layer'], parts['z'], parts['x'], parts['y'])}.mvt"
        if params:
            url += "?" + urlencode(params)
        _assert_client_error_at_most(clients[who].get(url), url)

    check()


def test_png_tilejson_and_auth_never_answer_a_server_error(clients):
    @FUZZ
    @given(layer=layer, z=segment, x=segment, y=segment, who=st.sampled_from([0, 1]))
    def check(layer, z, x, y, who):
        for url in (
            f"/tiles/{_path(layer.replace(',', ''), z, x, y)}.png",
            f"/tiles/{_path(layer)}.json",
            f"/tiles/auth/{_path(layer)}",
        ):
            _assert_client_error_at_most(clients[who].get(url), url)

    check()


def test_every_listed_odd_value_in_every_place(clients):
    """Deterministic: each listed odd value as the layer, z, x and y of a real tile, and each listed
    parameter with each listed value; random search alone would rarely hit them all."""
    base = {"layer": "components", "z": "16", "x": "53877", "y": "26085"}
    urls = []
    for place in ("z", "x", "y"):
        for odd in ODD:
            parts = {**base, place: odd}
            urls.append(f"/tiles/{_path(parts['layer'], parts['z'], parts['x'], parts['y'])}.mvt")
            urls.append(f"/tiles/{_path('components', parts['z'], parts['x'], parts['y'])}.png")
    for name in LAYERS + ODD:
        urls += [
            f"/tiles/{_path(name, base['z'], base['x'], base['y'])}.mvt",
            f"/tiles/{_path(name)}.json",
            f"/tiles/auth/{_path(name)}",
        ]
    for param in PARAMS:
        for value in VALUES:
            urls.append(
                f"/tiles/{_path('components', base['z'], base['x'], base['y'])}.mvt?{urlencode({param: value})}"
            )
    for url in urls:
        for client in clients:
            _assert_client_error_at_most(client.get(url), url)


@pytest.mark.parametrize(
    "url,field",
    [
        ("/tiles/components/¹/0/0.mvt", "z"),
        ("/tiles/components/1/²/0.mvt", "x"),
        ("/tiles/components/1/0/١.mvt", "y"),
        ("/tiles/components/16/0/0.mvt?class=01%0018", "class"),
        ("/tiles/components/16/0/0.mvt?owner=%00", "owner"),
        ("/tiles/components/16/0/0.mvt?state=intact&grid=%00", "grid"),
    ],
)
def test_named_refusals(clients, url, field):
    r = clients[0].get(url)
    assert r.status_code == 400 and r.json()["field"] == field, (url, r.status_code, r.content[:300])
