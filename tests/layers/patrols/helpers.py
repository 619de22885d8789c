import datetime as dt
import json

from django.test import Client
from django.utils import timezone

from .conftest import LAT, LON

START = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)


def fix(i, lon=None, lat=LAT, crs="WGS84", start=START, **extra):
    """The i-th fix of a walk: 10 s apart, ~1 m apart eastwards."""
    t = start + dt.timedelta(seconds=10 * i)
    body = {
        "fix_time": t.isoformat(),
        "send_time": (t + dt.timedelta(seconds=2)).isoformat(),
        "lon": LON + i * 0.00001 if lon is None else lon,
        "lat": lat,
        "accuracy": 5.0,
        "speed": 1.2,
        "heading": 90,
        "crs": crs,
    }
    body.update(extra)
    return body


def post(user, body, **extra):
    c = Client()
    c.force_login(user)
    return c.post("/api/patrols/fixes/", json.dumps(body), content_type="application/json", **extra)
