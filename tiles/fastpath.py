"""Vector tile and WMS map requests answered in front of Django's request cycle.

A map asks for dozens of tiles a second per user. Django's middleware chain and URL resolver cost more
than a cached tile itself (measured: a cached tile through the full stack ~460-980 tiles/s on this
2-core machine, a bare WSGI app reading Redis ~3,400). This WSGI wrapper sends `GET /tiles/.../z/x/y.mvt`
to the tile service's handler (tiles/service.py: the one tile code path, also behind the Django view and
the tile-only application), and `GET /wms` to the WMS view, which authenticates and answers in OGC form
itself; everything else goes to Django unchanged."""

import logging
from importlib import import_module

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections

from gis_core.unavailable import UNAVAILABLE, unavailable_response

from . import service
from .service import TILE_PATH

log = logging.getLogger(__name__)


def wrap(django_app):
    from layers.ogc.wms.views import wms

    from .views import error_response

    session_store = import_module(settings.SESSION_ENGINE).SessionStore

    def application(environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET":
            return django_app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        match = TILE_PATH.match(path)
        if match is not None:
            # The tile service's own handler: no WSGIRequest, no HttpResponse (tiles/service.py).
            return service.send(start_response, *service.handle(environ, *match.groups()))
        if path != "/wms":
            return django_app(environ, start_response)
        close_old_connections()  # what Django does when a request starts and ends (CONN_MAX_AGE, health checks)
        try:
            request = WSGIRequest(environ)
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would check
            request.session = session_store(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
            response = wms(request)
        except DisallowedHost:
            response = error_response("host not allowed", None, 400)
        except UNAVAILABLE:
            log.warning("WMS request: a server is unavailable", exc_info=True)
            response = unavailable_response()
        except Exception:  # noqa: BLE001 - never a stack trace to the client
            log.exception("WMS request failed")
            response = error_response("internal error", None, 500)
        finally:
            close_old_connections()
        response.setdefault("X-Content-Type-Options", "nosniff")
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]

    return application
