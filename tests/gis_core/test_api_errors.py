"""The net under edge validation: database errors a request's own values caused are a 400, others a 503."""

import psycopg
from django.db import DataError, OperationalError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from gis_core.api_errors import exception_handler


def _context(url="/api/components/", **kwargs):
    return {"request": Request(APIRequestFactory().get(url)), "kwargs": kwargs}


def _raised_from(django_error, cause):
    try:
        raise django_error("refused") from cause
    except django_error as exc:
        return exc


def test_nul_in_a_path_argument_is_a_400_naming_it():
    exc = _raised_from(DataError, psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
    r = exception_handler(exc, _context(code="37\x00"))
    assert r.status_code == 400 and r.data["field"] == "code"


def test_nul_in_a_query_parameter_is_a_400_naming_it():
    exc = _raised_from(DataError, psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
    r = exception_handler(exc, _context("/api/grids/search/?q=a%00b"))
    assert r.status_code == 400 and r.data["field"] == "q"


def test_a_value_out_of_range_is_a_400_and_an_outage_a_503():
    out_of_range = _raised_from(DataError, psycopg.errors.NumericValueOutOfRange("integer out of range"))
    assert exception_handler(out_of_range, _context()).status_code == 400
    down = _raised_from(OperationalError, psycopg.OperationalError("connection refused"))
    assert exception_handler(down, _context()).status_code == 503
