"""HTTP Basic (what QGIS, GDAL and OWSLib send), no sessions, no CSRF: gis_core.auth checks the
credentials (throttled, remembered in-process for a short time); here its refusals become OGC ones."""

from gis_core.auth import LoginRefused, authenticate_basic, forget_credentials
from gis_core.request_user import forget_users, session_user, session_user_unconfirmed

from .exceptions import Unauthorized


def clear_cache():
    forget_credentials()
    forget_users()


def basic_user(request):
    """The authenticated user, None when no credentials were sent; Unauthorized (401, or 429 with
    retry_after when too many logins failed) when they are refused."""
    try:
        return authenticate_basic(request)
    except LoginRefused as exc:
        raise Unauthorized(str(exc), status=exc.status, retry_after=exc.retry_after) from None


def basic_or_session_user(request):
    """For map clients that may be either a GIS client (HTTP Basic) or the viewer in a browser (its
    session): the user, or None when neither is there; Unauthorized when Basic credentials are refused."""
    return basic_user(request) or session_user(request)


def basic_or_session_user_unconfirmed(request):
    """basic_or_session_user() as (user, session key to confirm): see
    gis_core.request_user.session_user_unconfirmed; the key is None for HTTP Basic."""
    user = basic_user(request)
    return (user, None) if user is not None else session_user_unconfirmed(request)
