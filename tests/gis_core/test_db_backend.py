"""The backend's health check (gis_core/db/base.py): no round trip for a sound connection, and a
connection the server dropped is found unusable, so Django opens a new one instead of failing."""

import time

import psycopg
import pytest
from django.db import connections

pytestmark = pytest.mark.django_db(transaction=True)


def _wrapper():
    w = connections.create_connection("default")
    w.connect()
    return w


def _admin(w, **kwargs):
    s = w.settings_dict
    return psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], dbname=s["NAME"], **kwargs)


def test_a_sound_connection_is_usable_without_a_statement():
    w = _wrapper()
    try:
        with w.cursor() as cur:
            cur.execute("SELECT 'marker'")
        assert w.is_usable()
        with _admin(w) as other:  # a SELECT 1 would show as the backend's last statement
            (query,) = other.execute(
                "SELECT query FROM pg_stat_activity WHERE pid = %s", [w.connection.info.backend_pid]
            ).fetchone()
        assert query == "SELECT 'marker'"
    finally:
        w.close()


def test_a_connection_the_server_dropped_is_unusable_and_the_next_one_works():
    w = _wrapper()
    with _admin(w, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [w.connection.info.backend_pid])
    deadline = time.monotonic() + 5
    while w.is_usable() and time.monotonic() < deadline:  # the FATAL message is on its way
        time.sleep(0.01)
    assert not w.is_usable()
    w.health_check_done = False  # as at a request's start (close_if_unusable_or_obsolete)
    w.close_if_health_check_failed()  # what Django does before the request's first query
    with w.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    w.close()


def test_a_transaction_a_failed_statement_aborted_is_unusable_as_with_select_1():
    w = _wrapper()
    try:
        w.set_autocommit(False)
        with pytest.raises(Exception), w.cursor() as cur:  # noqa: B017, PT011 - any database error
            cur.execute("SELECT 1/0")
        assert not w.is_usable()  # Django's test teardown skips its constraint check on this
        w.rollback()
        assert w.is_usable()
    finally:
        w.close()
