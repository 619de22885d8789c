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


# The role matrix: who may do what, as data. Actions: "read", "create", "transfer", "retire",
# "import", "change_state", "photo", and "update.<field>" for each field a PATCH may name. The
# organisations a component answers to (department, owner, maintainer) are in no "update." row:
# they move only through an ownership transfer, which records who, when and why. A maintenance
# unit writes only its own components: visibility (components.visibility) narrows the rows, the
# matrix says which columns.
_EDITORS = frozenset({GIS_EDITOR, ADMINISTRATOR})
_FIELD_EDITORS = _EDITORS | {MAINTENANCE_UNIT}
PATCH_FIELDS = (
    "name",
    "geometry",
    "street_code",
    "community_code",
    "grid_code",
    "location_desc",
    "state",
    "census_date",
    "change_date",
    "data_source",
    "note",
    "attributes",
)
OWNERSHIP_FIELDS = ("department", "owner", "maintainer")
MATRIX: dict[str, frozenset] = {
    "read": frozenset(ALL),
    "create": _EDITORS,
    "transfer": _EDITORS,
    "retire": _EDITORS,
    "import": _EDITORS,
    "change_state": _FIELD_EDITORS | {GRID_WORKER},
    "photo": _FIELD_EDITORS | {GRID_WORKER},
    **{f"update.{name}": _FIELD_EDITORS for name in PATCH_FIELDS},
    **{f"update.{name}": frozenset() for name in OWNERSHIP_FIELDS},
}


def allowed(role: str, action: str) -> bool:
    """One cell of the matrix (unknown actions are refused)."""
    return role in MATRIX.get(action, frozenset())


def may(user, action: str) -> bool:
    """Whether any of the user's roles allows `action`."""
    return bool(roles_of(user) & MATRIX.get(action, frozenset()))


def can_register(user) -> bool:
    """Create components, transfer ownership, retire."""
    return may(user, "create")


def can_edit(user) -> bool:
    """Update some field of components (a maintenance unit: only its own, which visibility enforces)."""
    return any(may(user, f"update.{name}") for name in PATCH_FIELDS)


def can_change_state(user) -> bool:
    return may(user, "change_state")


def can_transfer(user) -> bool:
    return may(user, "transfer")


def can_retire(user) -> bool:
    return may(user, "retire")


def can_import(user) -> bool:
    return may(user, "import")


def can_read(user) -> bool:
    return may(user, "read")
