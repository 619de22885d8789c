"""/wfs (WFS only) and /ows (every OGC service by SERVICE=; a dispatch table).
HTTP Basic only, csrf-exempt, GET and POST, no redirects; every error is an OWS exception report."""

import logging

from django.views.decorators.csrf import csrf_exempt

from gis_core import budget

from . import body, limits
from . import requests as ogcrequests
from .auth import basic_or_session_user, basic_user
from .caching import changing_answer
from .capabilities import get_capabilities
from .describe import describe_feature_type
from .exceptions import OWSException, Unauthorized, report_response
from .getfeature import get_feature
from .transaction import transaction_op
from .wms import views as wms_views

log = logging.getLogger(__name__)

# Operations that run queries of the client's choosing: a per-client budget of them at once.
EXPENSIVE = ("getfeature", "transaction")
WFS_OPERATIONS = {
    "getcapabilities": get_capabilities,
    "describefeaturetype": describe_feature_type,
    "getfeature": get_feature,
    "transaction": transaction_op,
}


def wfs_service(request, ows_request, user):
    op = (ows_request.operation or "").lower()
    if not op:
        raise OWSException("REQUEST is required", code="MissingParameterValue", locator="request")
    handler = WFS_OPERATIONS.get(op)
    if handler is None:
        raise OWSException(
            f"operation {ows_request.operation!r} is not supported", code="OperationNotSupported", locator="request"
        )
    if op not in EXPENSIVE:
        return handler(request, ows_request, user)
    try:
        return budget.run(budget.client_key(request, user), lambda: handler(request, ows_request, user))
    except budget.OverBudget as exc:
        raise OWSException(
            exc.text, code="NoApplicableCode", locator="request", status=429, retry_after=exc.retry_after
        ) from None


SERVICES = {"WFS": wfs_service}


def _parse(request) -> ogcrequests.OWSRequest:
    if request.method == "GET":
        return ogcrequests.from_kvp(request.GET)
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        body.check_declared(request, limits.limit("MAX_REQUEST_BYTES"), "a form request")
        return ogcrequests.from_kvp(request.POST)
    data = body.read_xml(request)
    if not data.strip() and request.GET:
        return ogcrequests.from_kvp(request.GET)
    return ogcrequests.from_xml(data)


def _query_version(request) -> str:
    """The version of the query string, for errors raised before the body is read (2.0.0 if none)."""
    version = next((v for k, v in request.GET.items() if k.upper() == "VERSION"), "").strip()
    return version if version in ogcrequests.VERSIONS else "2.0.0"


def _dispatch(request, fixed_service: str | None):
    version = _query_version(request)
    ows_request = None
    try:
        if request.method not in ("GET", "POST"):
            raise OWSException("use GET or POST", code="OperationNotSupported", locator="request", status=405)
        # Credentials before the body: an anonymous or wrong client never gets its body read or parsed.
        user = basic_user(request)
        if user is None:
            raise Unauthorized()
        ows_request = _parse(request)
        version = ows_request.version
        service = ows_request.service or fixed_service
        if ows_request.xml is not None and not service and "opengis.net/wfs" in (ows_request.xml.tag or ""):
            service = "WFS"
        if fixed_service and service != fixed_service:
            raise OWSException(
                f"this endpoint serves {fixed_service} only", code="InvalidParameterValue", locator="service"
            )
        if not service:
            raise OWSException("SERVICE is required", code="MissingParameterValue", locator="service")
        handler = SERVICES.get(service)
        if handler is None:
            raise OWSException(
                f"service {service!r} is not offered here", code="InvalidParameterValue", locator="service"
            )
        return handler(request, ows_request, user)
    except OWSException as exc:
        if (
            exc.status == 400
            and ows_request is not None
            and version != "2.0.0"
            and (ows_request.operation or "").lower() == "transaction"
        ):
            # WFS 1.x defines no HTTP status for exceptions, and QGIS reads the ExceptionReport of a
            # refused Transaction (to show its ExceptionText) only from a 200 response.
            exc.status = 200
        return report_response(exc, version)
    except Exception:
        log.exception("OGC request failed")
        return report_response(
            OWSException("internal error; the request was not carried out", code="NoApplicableCode", status=500),
            version,
        )


@csrf_exempt
@changing_answer
def wfs(request):
    return _dispatch(request, "WFS")


# Services with their own parsing, login and exception format, picked by the KVP SERVICE= before
# anything is parsed (WMS answers in ServiceExceptionReport 1.3.0 and accepts sessions).
KVP_SERVICES = {"WMS": wms_views.wms}


def _form_post(request) -> bool:
    return request.method == "POST" and request.META.get("CONTENT_TYPE", "").startswith(
        "application/x-www-form-urlencoded"
    )


@csrf_exempt
@changing_answer
def ows(request):
    if _form_post(request):
        # SERVICE= of a form POST is in its body: credentials (Basic or, for WMS, a session) and the
        # size first, so an anonymous or oversized form is never read.
        try:
            if basic_or_session_user(request) is None:
                raise Unauthorized()
            body.check_declared(request, limits.limit("MAX_REQUEST_BYTES"), "a form request")
        except OWSException as exc:
            return report_response(exc, _query_version(request))
    own = KVP_SERVICES.get(wms_views.requested_service(request))
    if own is not None:
        return own(request)
    return _dispatch(request, None)
