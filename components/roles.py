"""The five roles, as Django groups. What each may do is decided here and nowhere else."""
import time

DISPATCHER = "dispatcher"
MAINTENANCE_UNIT = "maintenance_unit"
GIS_EDITOR = "gis_editor"
GRID_WORKER = "grid_worker"
ADMINISTRATOR = "administrator"
ALL = [DISPATCHER, MAINTENANCE_UNIT, GIS_EDITOR, GRID_WORKER, ADMINISTRATOR]
LABELS = {
    DISPATCHER: "调度员 dispatcher",
    MAINTENANCE_UNIT: "养护/权属单位 maintenance unit",
    GIS_EDITOR: "GIS 编辑 GIS editor",
    GRID_WORKER: "网格员 grid worker",
    ADMINISTRATOR: "管理员 administrator",
}


# A user's roles are read on every request; keep them for a short while per process, so a role
# change takes effect within ROLE_CACHE_SECONDS without a query per request.
ROLE_CACHE_SECONDS = 30
_role_cache: dict[int, tuple[float, frozenset]] = {}


def roles_of(user) -> set[str]:
    if user is None or not user.is_authenticated:
        return set()
    cached = getattr(user, "_gridcity_roles", None)
    if cached is None:
        now = time.monotonic()
        hit = _role_cache.get(user.pk)
        if hit is not None and hit[0] > now:
            cached = set(hit[1])
        else:
            cached = set(user.groups.values_list("name", flat=True))
            if user.is_superuser:
                cached.add(ADMINISTRATOR)
            _role_cache[user.pk] = (now + ROLE_CACHE_SECONDS, frozenset(cached))
        user._gridcity_roles = cached
    return cached


def forget_roles(user_id: int | None = None) -> None:
    """Drops cached roles (all, or one user's): after a group change that must apply at once."""
    if user_id is None:
        _role_cache.clear()
    else:
        _role_cache.pop(user_id, None)


def organisation_of(user):
    profile = getattr(user, "profile", None) if user is not None and user.is_authenticated else None
    return profile.organisation if profile is not None else None


def is_unit_only(user) -> bool:
    """A maintenance-unit account that holds no wider role: it sees only its organisation's components."""
    roles = roles_of(user)
    return MAINTENANCE_UNIT in roles and not roles & {DISPATCHER, GIS_EDITOR, GRID_WORKER, ADMINISTRATOR}


def can_register(user) -> bool:
    """Create components, transfer ownership, retire."""
    return bool(roles_of(user) & {GIS_EDITOR, ADMINISTRATOR})


def can_edit(user) -> bool:
    """Update components (a maintenance unit: only its own, which the selector enforces)."""
    return bool(roles_of(user) & {GIS_EDITOR, ADMINISTRATOR, MAINTENANCE_UNIT})


def can_change_state(user) -> bool:
    return bool(roles_of(user) & {GIS_EDITOR, ADMINISTRATOR, MAINTENANCE_UNIT, GRID_WORKER})


def can_import(user) -> bool:
    return bool(roles_of(user) & {GIS_EDITOR, ADMINISTRATOR})


def can_read(user) -> bool:
    return bool(roles_of(user))
