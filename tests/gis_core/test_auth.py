"""Logins at every door (gis_core.auth): failed logins throttled per account and per address in
Redis before any hashing, answered 429 with Retry-After in each protocol's form; the one Basic
challenge on every 401; a logout ends tile access at once."""

import base64
from xml.etree import ElementTree as ET

import pytest
from django.contrib.auth.backends import ModelBackend
from django.test import Client, override_settings

from components import roles
from gis_core.auth import WWW_AUTHENTICATE, client_address, login_throttle
from layers.ogc import auth as ogc_auth
from tests.factories import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "auth-pass-123"
ADDRESS = "198.51.100.7"
WFS = {"SERVICE": "WFS", "REQUEST": "GetCapabilities"}
WMS = {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}
TILE = "/tiles/components/16/53920/26306.mvt"


def basic(username, password=PASSWORD):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture(autouse=True)
def fresh():
    """Counts in Redis and the in-process credential cache, empty around each test."""
    login_throttle.forget_all()
    ogc_auth.clear_cache()
    yield
    login_throttle.forget_all()
    ogc_auth.clear_cache()


@pytest.fixture
def user(db):
    return make_user("auth_user", roles.DISPATCHER, password=PASSWORD)


@pytest.fixture
def hashings(monkeypatch):
    """How many password checks reached the hashing backend."""
    calls = []
    real = ModelBackend.authenticate
    monkeypatch.setattr(ModelBackend, "authenticate", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def api(username, password=PASSWORD, address=ADDRESS):
    return Client(REMOTE_ADDR=address).get("/api/components/", HTTP_AUTHORIZATION=basic(username, password))


def retry_after(response) -> int:
    seconds = int(response["Retry-After"])
    assert 0 < seconds <= 900
    return seconds


# ------------------------------------------------------------------ the throttle, per account
def test_the_sixth_api_login_of_an_account_is_refused_unhashed_with_429(user, hashings):
    for _ in range(5):
        assert api(user.username, "wrong").status_code == 401
    assert len(hashings) == 5
    r = api(user.username)  # even the right password: the account waits
    assert r.status_code == 429 and retry_after(r)
    assert r.json()["message"].endswith(f"too many failed logins; try again in {retry_after(r)} s")
    assert len(hashings) == 5  # refused before any hashing
    # from another address too: the count is the account's
    assert api(user.username, address="203.0.113.9").status_code == 429


def test_a_successful_login_resets_the_account_count(user):
    for _ in range(4):
        assert api(user.username, "wrong").status_code == 401
    assert api(user.username).status_code == 200
    ogc_auth.clear_cache()  # the next right password must be hashed again, not remembered
    for _ in range(4):
        assert api(user.username, "wrong").status_code == 401
    assert api(user.username).status_code == 200


def test_the_account_count_ignores_case_and_unknown_accounts_are_counted_too(user, hashings):
    for name in ["Auth_User", "AUTH_USER", "auth_user", "auth_USER", "AuTh_UsEr"]:
        assert api(name, "wrong").status_code == 401
    assert api(user.username).status_code == 429
    for _ in range(5):
        assert api("nobody-here", "x").status_code == 401
    assert api("nobody-here", "x").status_code == 429


@override_settings(LOGIN_THROTTLE_ACCOUNT_FAILURES=2, LOGIN_THROTTLE_WINDOW_SECONDS=120)
def test_the_numbers_are_settings(user):
    for _ in range(2):
        assert api(user.username, "wrong").status_code == 401
    r = api(user.username)
    assert r.status_code == 429 and int(r["Retry-After"]) <= 120


# ------------------------------------------------------------------ per address
@override_settings(LOGIN_THROTTLE_ADDRESS_FAILURES=3)
def test_an_address_that_fails_on_many_accounts_is_throttled_for_every_account(user, hashings):
    for i in range(3):
        assert api(f"guess{i}", "x").status_code == 401
    assert api(user.username).status_code == 429  # an untouched account, from that address
    assert api(user.username, address="203.0.113.9").status_code == 200  # from elsewhere: fine
    assert len(hashings) == 4


@override_settings(LOGIN_THROTTLE_ADDRESS_FAILURES=3, LOGIN_THROTTLE_TRUSTED_PROXIES=frozenset({"127.0.0.1"}))
def test_behind_the_local_proxy_the_forwarded_address_counts(user):
    def via_proxy(client_ip, username, password):
        return Client(REMOTE_ADDR="127.0.0.1").get(
            "/api/components/",
            HTTP_AUTHORIZATION=basic(username, password),
            HTTP_X_FORWARDED_FOR=f"10.9.9.9, {client_ip}",
        )  # the first hop is the client's own claim

    for i in range(3):
        assert via_proxy("198.51.100.20", f"guess{i}", "x").status_code == 401
    assert via_proxy("198.51.100.20", user.username, PASSWORD).status_code == 429
    assert via_proxy("198.51.100.21", user.username, PASSWORD).status_code == 200


def test_client_address_trusts_forwarded_for_only_from_a_trusted_proxy(rf):
    assert client_address(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")) == "5.6.7.8"
    assert client_address(rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="5.6.7.8")) == "192.0.2.1"
    assert client_address(rf.get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"


# ------------------------------------------------------------------ each door's 429
def _lock(username):
    for _ in range(5):
        api(username, "wrong")


def test_wfs_answers_a_throttled_login_with_an_exception_report(user):
    _lock(user.username)
    r = Client(REMOTE_ADDR=ADDRESS).get("/wfs", WFS, HTTP_AUTHORIZATION=basic(user.username))
    assert r.status_code == 429 and retry_after(r)
    root = ET.fromstring(r.content)
    assert root.tag.endswith("ExceptionReport")
    assert "try again" in "".join(root.itertext())


def test_wms_answers_a_throttled_login_with_a_service_exception_report(user):
    _lock(user.username)
    r = Client(REMOTE_ADDR=ADDRESS).get("/wms", WMS, HTTP_AUTHORIZATION=basic(user.username))
    assert r.status_code == 429 and retry_after(r)
    assert ET.fromstring(r.content).tag.endswith("ServiceExceptionReport")


def test_tiles_answer_a_throttled_login_with_json(user):
    _lock(user.username)
    r = Client(REMOTE_ADDR=ADDRESS).get(TILE, HTTP_AUTHORIZATION=basic(user.username))
    assert r.status_code == 429 and retry_after(r) and "try again" in r.json()["message"]


def test_the_login_form_shows_the_wait_with_429(user, hashings):
    c = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(5):
        assert c.post("/accounts/login/", {"username": user.username, "password": "wrong"}).status_code == 200
    r = c.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert r.status_code == 429 and retry_after(r)
    page = r.content.decode()
    assert "登录失败次数过多" in page and "分钟后再试" in page and 'name="password"' in page
    assert len(hashings) == 5
    assert "_auth_user_id" not in c.session


def test_the_admin_login_is_throttled_too(user):
    admin = make_user("auth_admin", roles.ADMINISTRATOR, password=PASSWORD)
    admin.is_staff = True
    admin.save()
    c = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(5):
        assert c.post("/admin/login/", {"username": admin.username, "password": "wrong"}).status_code == 200
    r = c.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert r.status_code == 429 and retry_after(r) and "登录失败次数过多" in r.content.decode()


def test_a_good_form_login_still_works_and_resets(user):
    c = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(4):
        c.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    r = c.post("/accounts/login/", {"username": user.username, "password": PASSWORD, "next": "/"})
    assert r.status_code == 302 and r.url == "/"
    assert api(user.username, "wrong").status_code == 401  # the count started again


# ------------------------------------------------------------------ one challenge on every 401
def test_anonymous_api_requests_get_401_with_the_basic_challenge(db):
    r = Client().get("/api/components/")
    assert r.status_code == 401 and r["WWW-Authenticate"] == WWW_AUTHENTICATE
    assert r.json()["message"]


def test_ogc_and_tile_401s_carry_the_same_challenge(db):
    for path, params in [("/wfs", WFS), ("/wms", WMS), ("/ows", WMS), (TILE, {})]:
        r = Client().get(path, params)
        assert r.status_code == 401 and r["WWW-Authenticate"] == WWW_AUTHENTICATE, path
        r = Client().get(path, params, HTTP_AUTHORIZATION=basic("nobody", "x"))
        assert r.status_code == 401 and r["WWW-Authenticate"] == WWW_AUTHENTICATE, path


def test_the_viewer_keeps_its_session_and_gets_no_password_dialog_when_it_ends(user):
    c = Client()
    c.force_login(user)
    assert c.get("/api/components/").status_code == 200
    c.post("/accounts/logout/")
    c.cookies["sessionid"] = "ended-session"
    r = c.get("/api/components/")
    assert r.status_code == 401 and "WWW-Authenticate" not in r  # the viewer goes to its login page
    r = c.get(TILE)
    assert r.status_code == 401 and "WWW-Authenticate" not in r


def test_basic_works_for_the_api_and_other_schemes_are_refused(user):
    assert api(user.username).status_code == 200
    r = Client().get("/api/components/", HTTP_AUTHORIZATION="Bearer abc")
    assert r.status_code == 401 and r["WWW-Authenticate"] == WWW_AUTHENTICATE


# ------------------------------------------------------------------ a logout ends tile access at once
def test_a_logout_ends_tile_access_at_once_with_the_same_cookie(user):
    c = Client()
    assert c.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    cookie = c.cookies["sessionid"].value
    assert c.get(TILE).status_code == 200
    assert c.get("/wms", WMS).status_code == 200
    c.post("/accounts/logout/")
    stale = Client()
    stale.cookies["sessionid"] = cookie
    assert stale.get(TILE).status_code == 401
    assert stale.get("/wms", WMS).status_code == 401


@pytest.mark.django_db(transaction=True)  # the fast path opens and closes connections as a request does
def test_a_logout_ends_access_at_once_through_the_tile_fast_path(user, rf):
    """Production tiles and GET /wms skip Django's middleware (tiles.fastpath): same rule there."""
    from gis_core.wsgi import application

    def fetch(path, cookie):
        environ = rf.get(path, HTTP_COOKIE=f"sessionid={cookie}").environ
        statuses = []
        application(environ, lambda status, headers: statuses.append(status))
        return int(statuses[0].split()[0])

    c = Client()
    assert c.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    cookie = c.cookies["sessionid"].value
    assert fetch(TILE, cookie) == 200
    assert fetch("/wms?SERVICE=WMS&REQUEST=GetCapabilities", cookie) == 200
    c.post("/accounts/logout/")
    assert fetch(TILE, cookie) == 401
    assert fetch("/wms?SERVICE=WMS&REQUEST=GetCapabilities", cookie) == 401


def test_the_api_schema_names_basic_and_session_logins(user):
    c = Client()
    c.force_login(user)
    schema = c.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["securitySchemes"]["basicAuth"] == {"type": "http", "scheme": "basic"}
    assert "cookieAuth" in schema["components"]["securitySchemes"]
