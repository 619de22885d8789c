"""Who sees whose patrols: dispatchers and administrators everyone's, a grid worker their own."""

from django.contrib.auth import get_user_model

from components import roles

from .models import Position, Track

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
