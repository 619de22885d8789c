"""The GeoReport v2 resources. Thin: check the jurisdiction and the key, call the catalogue, submit or
reading, and render. Every refusal is the spec's error list in the format the URL asked for."""

import functools
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.views.decorators.csrf import csrf_exempt

from gis_core.errors import ClientError, ServiceError
from gis_core.text import nul_parameter

from . import catalogue, reading, render
from .models import Open311Client
from .submit import submit

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


class Refused(Exception):
    def __init__(self, status: int, *descriptions: str, retry_after: int | None = None):
        super().__init__(descriptions)
        self.status, self.descriptions, self.retry_after = status, list(descriptions), retry_after


def _descriptions(exc: ClientError) -> list[str]:
    if isinstance(exc, ServiceError):
        return [f"{field}: {reason}" if field != "non_field_errors" else reason for field, reason in exc.errors.items()]
    return [exc.message]


def resource(*methods):
    """Method check, jurisdiction check and the refusals, for one resource answering in `fmt`."""

    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def run(request, fmt, **kwargs):
            allowed = methods + ("HEAD",) if "GET" in methods else methods
            try:
                if request.method not in allowed:
                    response = render.errors(fmt, 405, [f"{request.method} is not allowed here: {', '.join(allowed)}"])
                    response["Allow"] = ", ".join(allowed)
                    return response
                data = request.POST if request.method == "POST" else request.GET
                bad = nul_parameter(request.GET, kwargs, None) or (
                    nul_parameter(request.POST) if data is request.POST else None
                )
                if bad:
                    raise Refused(400, f"{bad}: NUL characters are not allowed")
                _jurisdiction(request.POST.get("jurisdiction_id") or request.GET.get("jurisdiction_id"))
                return view(request, fmt, **kwargs)
            except Refused as exc:
                response = render.errors(fmt, exc.status, exc.descriptions)
                if exc.retry_after:
                    response["Retry-After"] = str(exc.retry_after)
                return response
            except ClientError as exc:
                return render.errors(fmt, exc.status, _descriptions(exc))
            except SuspiciousOperation as exc:
                # A body over DATA_UPLOAD_MAX_MEMORY_SIZE or with too many fields, found when it is read.
                return render.errors(fmt, 400, [f"request refused: {exc}"])

        return run

    return wrap


def _jurisdiction(value) -> None:
    """One jurisdiction is served, so the parameter may be left out; any other value is not found."""
    value = (value or "").strip()
    if value and value != settings.GRIDCITY_ADMIN_CODE:
        raise Refused(404, f"jurisdiction_id {value!r} not found: this endpoint serves {settings.GRIDCITY_ADMIN_CODE}")


def _client(request) -> Open311Client:
    key = request.POST.get("api_key") or request.GET.get("api_key")
    if not key:
        raise Refused(403, "api_key: missing: POST requests needs the key issued to your application")
    client = Open311Client.by_key(key)
    if client is None:
        raise Refused(403, "api_key: invalid or deactivated key")
    return client


def _within_rate(client: Open311Client) -> None:
    """A fixed one-minute window per client in Redis: enough to stop a runaway app, cheap per POST."""
    limit = client.rate_limit_per_minute
    if not limit:
        return
    window = int(time.time() // 60)
    key = f"open311:rate:{client.pk}:{window}"
    cache.add(key, 0, timeout=120)
    if cache.incr(key) > limit:
        raise Refused(
            429, f"rate limit: at most {limit} requests a minute for this key", retry_after=60 - int(time.time()) % 60
        )


@resource("GET")
def discovery(request, fmt):
    changeset = getattr(settings, "GRIDCITY_OPEN311_CHANGESET", "2026-12-03 00:00")
    body = {
        "changeset": changeset,
        "contact": getattr(settings, "GRIDCITY_OPEN311_CONTACT", ""),
        "key_service": getattr(settings, "GRIDCITY_OPEN311_KEY_SERVICE", ""),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": settings.PUBLIC_BASE_URL.rstrip("/") + "/open311/v2",
                "changeset": changeset,
                "type": "production" if settings.ENVIRONMENT == "production" else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render.answer(fmt, "discovery", body)


@resource("GET")
def services(request, fmt):
    return render.answer(fmt, "services", [catalogue.service(cls) for cls in catalogue.leaf_classes()])


@resource("GET")
def service_definition(request, fmt, code):
    cls = catalogue.find_leaf(code)
    if cls is None:
        raise Refused(404, f"service_code {code!r} not found: see services.{fmt}")
    return render.answer(fmt, "service_definition", catalogue.definition(cls))


@resource("GET", "POST")
def requests(request, fmt):
    if request.method != "POST":
        return render.answer(fmt, "service_requests", [reading.as_request(c) for c in reading.search(request.GET)])
    client = _client(request)
    _within_rate(client)
    case, repeated = submit(client, request.POST, request.META)
    answer = {"service_request_id": case.number, "service_notice": None, "account_id": None}
    return render.answer(fmt, "service_requests", [answer], status=200 if repeated else 201)


@resource("GET")
def request_detail(request, fmt, request_id):
    case = reading.by_id(request_id)
    if case is None:
        raise Refused(404, f"service_request_id {request_id!r} not found")
    return render.answer(fmt, "service_requests", [reading.as_request(case)])


@resource("GET")
def token(request, fmt, token):
    from .models import Open311Request

    found = Open311Request.objects.filter(token=token).select_related("case").first() if token else None
    if found is None:
        raise Refused(404, f"token {token!r} not found")
    return render.answer(fmt, "service_requests", [{"service_request_id": found.case.number, "token": token}])


@csrf_exempt
def not_found(request, path=""):
    fmt = "json" if path.endswith(".json") else "xml"
    return render.errors(fmt, 404, [f"no resource {request.path!r}: see discovery.{fmt}"])
