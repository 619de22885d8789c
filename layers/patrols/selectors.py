"""Who sees whose patrols: dispatchers and administrators everyone's, a grid worker their own."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q

from components import roles

from .models import PatrolAssignment, Position, Track

_ALL = frozenset({roles.DISPATCHER, roles.ADMINISTRATOR})


def sees_all(user) -> bool:
    return bool(roles.roles_of(user) & _ALL)


def may_see(user, worker) -> bool:
    return sees_all(user) or (worker is not None and user.pk == worker.pk and roles.GRID_WORKER in roles.roles_of(user))


def scope_sql(user, alias: str = "t") -> tuple[str, str, list] | None:
    """(cache key part, SQL condition, params) over a table with worker_id as `alias`."""
    if user is None or not user.is_authenticated:
        return None
    if sees_all(user):
        return "all", "TRUE", []
    if roles.GRID_WORKER in roles.roles_of(user):
        return f"w{user.pk}", f"{alias}.worker_id = %s", [user.pk]
    return None


def _scoped(qs, user):
    if user is None or not user.is_authenticated:
        return qs.none()
    if sees_all(user):
        return qs
    if roles.GRID_WORKER in roles.roles_of(user):
        return qs.filter(worker_id=user.pk)
    return qs.none()


def visible_tracks(user):
    return _scoped(Track.objects.all(), user)


def visible_positions(user):
    return _scoped(Position.objects.all(), user)


def worker_named(user, username: str):
    """The worker if `user` may see their patrols, else None (404: no telling who exists)."""
    worker = get_user_model().objects.filter(username=username).first()
    return worker if may_see(user, worker) else None


# From the stored daily tracks (patrols_trackday, one line per worker-day kept by ingest), not the
# fixes: grouping a day's fixes cost seconds at 100 workers, reading 100 lines a few milliseconds.
_DAY_WORKERS = """
SELECT u.username, u.last_name || u.first_name AS name, o.name AS unit,
       t.first_time, t.last_time, t.fix_count, ST_Length(t.geom::geography) AS distance_m
FROM patrols_trackday t
JOIN auth_user u ON u.id = t.worker_id
LEFT JOIN components_userprofile p ON p.user_id = t.worker_id
LEFT JOIN components_organisation o ON o.id = p.organisation_id
WHERE t.day = %s AND ({scope}) {search}
ORDER BY u.username
LIMIT %s
"""


def workers_on_day(user, day, q: str = "", limit: int = 500) -> list[dict]:
    """Who had a track on `day` (local, Asia/Shanghai) that `user` may see, at most `limit`
    (+1 so the caller can tell the list was cut); `q` matches username or name."""
    scope = scope_sql(user)
    if scope is None:
        return []
    _, condition, params = scope
    search, extra = "", []
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        search = "AND (u.username ILIKE %s OR u.last_name || u.first_name ILIKE %s)"
        extra = [like, like]
    sql = _DAY_WORKERS.format(scope=condition, search=search)
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, *params, *extra, limit + 1])
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class CoverageScope:
    """What a user may see of patrol coverage: codes/workers None = no restriction."""

    codes: list[str] | None = None
    workers: list[int] | None = None


def coverage_scope(user, first: dt.date, last: dt.date) -> CoverageScope | None:
    """Dispatchers and administrators: everything; a grid worker: the grids assigned to them in the range
    (and only themselves among workers); anyone else (maintenance units ...): None, nothing."""
    if user is None or not user.is_authenticated:
        return None
    if sees_all(user):
        return CoverageScope()
    if roles.GRID_WORKER in roles.roles_of(user):
        codes = (
            PatrolAssignment.objects.filter(worker_id=user.pk, valid_from__lte=last)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))
            .values_list("grid_code", flat=True)
        )
        return CoverageScope(codes=sorted(set(codes)), workers=[user.pk])
    return None


def visible_coverage_map(user):
    """The coverage layer's rows: everything, a grid worker's own grids (any day), or nothing."""
    from .models import CoverageMap

    if user is None or not user.is_authenticated:
        return CoverageMap.objects.none()
    if sees_all(user):
        return CoverageMap.objects.all()
    if roles.GRID_WORKER in roles.roles_of(user):
        codes = PatrolAssignment.objects.filter(worker_id=user.pk).values_list("grid_code", flat=True)
        return CoverageMap.objects.filter(grid_code__in=list(codes))
    return CoverageMap.objects.none()


def coverage_scope_sql(user, alias: str = "t") -> tuple[str, str, list] | None:
    if user is None or not user.is_authenticated:
        return None
    if sees_all(user):
        return "all", "TRUE", []
    if roles.GRID_WORKER in roles.roles_of(user):
        return (
            f"w{user.pk}",
            f"{alias}.grid_code IN (SELECT a.grid_code FROM patrols_patrolassignment a WHERE a.worker_id = %s)",
            [user.pk],
        )
    return None
