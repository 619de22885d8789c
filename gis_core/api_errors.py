"""REST errors as JSON with a message and the field, never a stack trace."""
import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from components.validation import ServiceError

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
    return {"message": message if field == "non_field_errors" else f"{field}: {message}",
            "field": None if field in ("non_field_errors", "detail") else field,
            "errors": [{"field": f, "message": m} for f, m in pairs]}


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.errors.items()), status=status.HTTP_400_BAD_REQUEST)
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
        log.exception("database error in API")
        return Response({"message": "the database refused or timed out this request", "field": None, "errors": []},
                        status=status.HTTP_503_SERVICE_UNAVAILABLE)
    return None
