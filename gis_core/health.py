"""GET /healthz: 200 when the database and the broker answer, 503 naming what does not."""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    checks = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT postgis_lib_version()")
            checks["database"] = {"ok": True, "postgis": cur.fetchone()[0]}
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check, reported without a trace
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
        checks["broker"] = {"ok": bool(client.ping())}
    except Exception as exc:  # noqa: BLE001 - as above
        checks["broker"] = {"ok": False, "error": type(exc).__name__}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)
