"""REST errors as JSON with a message and the field, never a stack trace."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from gis_core.errors import ClientError, ServiceError
from gis_core.text import nul_parameter

from .auth import challenge_wanted

log = logging.getLogger(__name__)


def _flatten(detail, prefix=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten(item, prefix)
    else:
        yield (prefix or "non_field_errors", str(detail))


def error_body(pairs):
    pairs = list(pairs)
    field, message = pairs[0] if pairs else ("non_field_errors", "bad request")
    return {
        "message": message if field in ("non_field_errors", "detail") else f"{field}: {message}",
        "field": None if field in ("non_field_errors", "detail") else field,
        "errors": [{"field": f, "message": m} for f, m in pairs],
    }


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.errors.items()), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ClientError):
        response = Response(error_body([(exc.field or "non_field_errors", exc.message)]), status=exc.status)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body(_flatten(detail)), status=status.HTTP_400_BAD_REQUEST)
    response = drf_handler(exc, context)
    if response is not None:
        response.data = error_body(_flatten(response.data))
        request = context.get("request")
        if response.status_code == 401 and request is not None and not challenge_wanted(request):
            del response["WWW-Authenticate"]  # the viewer goes back to its login page, without a password dialog
        return response
    if isinstance(exc, DatabaseError):
        refused = _refused_input(exc, context)
        if refused is not None:
            return refused
        log.exception("database error in API")
        return Response(
            {"message": "the database refused or timed out this request", "field": None, "errors": []},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return None


def _refused_input(exc, context):
    """A 400 for a database error the request's own values caused, or None (then it is ours: 503).
    Views validate at the edge; this is the net under them, so a value the edge missed is still
    the client's error and not an outage to retry."""
    request = context.get("request")
    if request is None:
        return None
    field = nul_parameter(request.query_params, context.get("kwargs"), getattr(request, "_full_data", None))
    if field is not None:
        return Response(error_body([(field, "must not contain NUL characters")]), status=status.HTTP_400_BAD_REQUEST)
    # SQLSTATE class 22 (data exception): a value out of range or of the wrong form for its column.
    sqlstate = getattr(exc.__cause__, "sqlstate", None) or ""
    if isinstance(exc, DataError) and sqlstate.startswith("22"):
        log.warning("database refused a value from %s %s: %s", request.method, request.path, exc)
        return Response(
            {
                "message": "a value in this request is out of range or malformed for the database "
                "(numbers, dates and coordinates)",
                "field": None,
                "errors": [],
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return None
