"""/wms (WMS only) and the WMS branch of /ows: KVP over GET (or a form POST), a logged-in user
(HTTP Basic, as QGIS and GDAL send, or the viewer's session), every error a ServiceExceptionReport."""

import logging

from django.db import OperationalError
from django.views.decorators.csrf import csrf_exempt

from gis_core import budget
from tiles.raster.pool import RenderTimeout

from .. import body, limits
from ..auth import basic_or_session_user
from ..caching import changing_answer
from ..exceptions import OWSException, Unauthorized
from .capabilities import get_capabilities
from .errors import WMSError, missing, report
from .featureinfo import get_feature_info
from .getmap import get_map

log = logging.getLogger(__name__)

# Operations that render or query: a per-client budget of them at once (gis_core.budget).
EXPENSIVE = ("getmap", "getfeatureinfo")
OPERATIONS = {"getcapabilities": get_capabilities, "getmap": get_map, "getfeatureinfo": get_feature_info}


def _params(request) -> dict:
    query = request.POST if request.method == "POST" else request.GET
    return {k.upper(): v for k, v in query.items()}


def requested_service(request) -> str:
    """SERVICE= of a KVP request (any case), for /ows to pick the service before parsing."""
    query = (
        request.POST
        if request.method == "POST" and request.content_type.startswith("application/x-www-form-urlencoded")
        else request.GET
    )
    return next((v for k, v in query.items() if k.upper() == "SERVICE"), "").strip().upper()


def _user(request):
    try:
        # the session's user from a short per-process cache, as for tiles: a map client asks for
        # images as fast as tiles, and request.user costs a cache read and a query each time (~3 ms)
        user = basic_or_session_user(request)
    except Unauthorized as exc:
        raise WMSError(exc.text, "", "Authorization", exc.status, exc.retry_after) from None
    if user is None:
        raise WMSError("log in first (HTTP Basic or a session)", "", "Authorization", 401)
    return user


def _check_size(request):
    try:
        body.check_declared(request, limits.limit("MAX_REQUEST_BYTES"), "a form request")
    except OWSException as exc:
        raise WMSError(exc.text, "", exc.locator, exc.status) from None


@csrf_exempt
@changing_answer
def wms(request):
    try:
        if request.method not in ("GET", "POST"):
            raise WMSError("use GET", "OperationNotSupported", "REQUEST", 405)
        # Credentials before the body: an anonymous or wrong client's form is never read.
        user = _user(request)
        if request.method == "POST":
            _check_size(request)
        params = _params(request)
        service = params.get("SERVICE", "WMS").strip().upper()
        if service != "WMS":
            raise WMSError(f"this endpoint serves WMS, not {service[:20]!r}", "InvalidParameterValue", "SERVICE")
        operation = params.get("REQUEST", "").strip()
        if not operation:
            raise missing("REQUEST")
        handler = OPERATIONS.get(operation.lower())
        if handler is None:
            raise WMSError(
                f"operation {operation[:40]!r} is not supported: GetCapabilities, GetMap, GetFeatureInfo",
                "OperationNotSupported",
                "REQUEST",
            )
        if operation.lower() not in EXPENSIVE:
            return handler(request, params, user)
        try:
            return budget.run(budget.client_key(request, user), lambda: handler(request, params, user))
        except budget.OverBudget as exc:
            raise WMSError(exc.text, "", "REQUEST", 429, retry_after=exc.retry_after) from None
    except WMSError as exc:
        return report(exc)
    except (OperationalError, RenderTimeout):
        log.exception("WMS request took too long")
        return report(
            WMSError("the map took too long or the database is unavailable; try again", "", "", 503, retry_after=10)
        )
    except Exception:
        log.exception("WMS request failed")
        return report(WMSError("internal error; the request was not carried out", "", "", 500))
