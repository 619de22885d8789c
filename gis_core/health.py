"""GET /healthz: 200 when the database and the broker answer, 503 naming what does not.
GET /status/: the same checks as a small readable page, for staff (the viewer's footer links it)."""

import redis
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

NAMES = {"database": "数据库 (PostgreSQL/PostGIS)", "broker": "任务队列 (Redis)"}


def _checks() -> dict:
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
    return checks


@require_GET
def healthz(request):
    checks = _checks()
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


@require_GET
@staff_member_required(login_url="login")
def status_page(request):
    checks = _checks()
    rows = [
        {
            "name": NAMES.get(key, key),
            "ok": c["ok"],
            "detail": f"PostGIS {c['postgis']}" if c.get("postgis") else c.get("error", ""),
        }
        for key, c in checks.items()
    ]
    ok = all(c["ok"] for c in checks.values())
    response = render(request, "gis_core/status.html", {"rows": rows, "ok": ok}, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response
