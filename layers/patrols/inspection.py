"""What a supervisor checks about the field app's data: the fixes kept in quarantine and why, and how far
each device's clock is off. Scoped like the playback (selectors): dispatchers and administrators see
every worker, a grid worker their own."""

import datetime as dt

from django.db.models import Count

from .models import DeviceClock, QuarantinedFix
from .playback import day_bounds
from .selectors import _scoped

MAX_ROWS = 1000
# A device whose clock is further off than this shows as wrong: fixes are judged by their own time.
SKEW_WARN_SECONDS = 60


def quarantined(user, day: dt.date, worker=None, reason: str | None = None, limit: int = MAX_ROWS) -> dict:
    """The day's quarantined fixes (local day), newest first, at most `limit`, with counts by reason."""
    start, end = day_bounds(day)
    qs = _scoped(QuarantinedFix.objects.filter(fix_time__gte=start, fix_time__lt=end), user)
    if worker is not None:
        qs = qs.filter(worker=worker)
    counts = {row["reason"]: row["n"] for row in qs.values("reason").annotate(n=Count("id")).order_by()}
    if reason:
        qs = qs.filter(reason=reason)
    labels = dict(QuarantinedFix.Reason.choices)
    rows = []
    for q in qs.select_related("worker").order_by("-fix_time", "id")[: limit + 1]:
        rows.append(
            {
                "worker": q.worker.username,
                "device_id": q.device_id,
                "fix_time": q.fix_time.isoformat(),
                "send_time": q.send_time.isoformat() if q.send_time else None,
                "receive_time": q.receive_time.isoformat(),
                "lon": round(q.geom.x, 7) if q.geom else None,
                "lat": round(q.geom.y, 7) if q.geom else None,
                "accuracy": q.accuracy,
                "speed": q.speed,
                "crs": q.source_crs,
                "reason": q.reason,
                "reason_label": labels.get(q.reason, q.reason),
            }
        )
    return {
        "date": day.isoformat(),
        "counts": [{"reason": r, "reason_label": labels.get(r, r), "count": n} for r, n in sorted(counts.items())],
        "total": sum(counts.values()),
        "fixes": rows[:limit],
        "truncated": len(rows) > limit,
    }


def device_clocks(user) -> list[dict]:
    """Each worker's device and its clock skew (receive - send, seconds, median of the last batch)."""
    out = []
    for c in _scoped(DeviceClock.objects.select_related("worker"), user).order_by("-updated_at")[:MAX_ROWS]:
        out.append(
            {
                "worker": c.worker.username,
                "name": (c.worker.last_name + c.worker.first_name) or c.worker.username,
                "device_id": c.device_id,
                "skew_seconds": round(c.skew_seconds, 1),
                "clock_wrong": abs(c.skew_seconds) > SKEW_WARN_SECONDS,
                "updated_at": c.updated_at.isoformat(),
            }
        )
    return out
