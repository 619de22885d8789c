"""A server we depend on (PostgreSQL, Redis) not answering is not the client's fault and not a bug of
ours: answer 503 with Retry-After, so clients wait and try again, instead of a 500. Used by Django's
handler500 (any view or middleware, e.g. a session read from Redis) and by the tile fast path."""

import sys

import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults

# Exceptions that mean "a server is down or restarting", as opposed to a bug.
UNAVAILABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    OperationalError,
    InterfaceError,
)
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "a server this service needs is not answering; try again shortly"


def unavailable_response() -> JsonResponse:
    response = JsonResponse({"message": UNAVAILABLE_MESSAGE, "field": None}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def is_unavailable(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, UNAVAILABLE):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request):
    """handler500: 503 + Retry-After when a server is unavailable, otherwise Django's own 500 page."""
    if is_unavailable(sys.exc_info()[1]):
        return unavailable_response()
    return defaults.server_error(request)
