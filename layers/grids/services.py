"""The one write path for grids. Every edit makes a new version; the database checks topology."""

from contextlib import contextmanager

import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import DatabaseError, connection, transaction
from shapely.validation import explain_validity

from components.services.grid_codes import components_in_area
from components.validation import to_shapely
from gis_core.errors import ServiceError
from gis_core.geometry import district_bbox
from gis_core.text import bad_character, is_ascii_digits

from .assignment import reassign, schedule_reassignment
from .models import Grid, GridLevel, GridVersion
from .signals import grids_changed

# Grids are the district and its parts: none reaches past the district's extent
# (GRIDCITY_DISTRICT_BBOX) by more than this, about 50 m, for boundaries digitised on another base map.
DISTRICT_TOLERANCE_DEG = 0.0005
TOPOLOGY_STATES = {"GR001": "overlap", "GR002": "outside_parent", "GR003": "children_outside", "GR004": "has_children"}


def _as_multipolygon(geom) -> GEOSGeometry:
    if not isinstance(geom, GEOSGeometry):
        geom = GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=4490)
    if geom.srid is None:
        geom.srid = 4490
    if geom.geom_type == "Polygon":
        geom = MultiPolygon(geom, srid=geom.srid)
    if geom.geom_type != "MultiPolygon":
        raise ServiceError({"geom": f"a grid is a polygon, not a {geom.geom_type}"})
    return geom


def geometry_problem(geom) -> str | None:
    shp = to_shapely(geom)
    if shp.is_empty:
        return "geometry is empty"
    if not shapely.is_valid(shp):
        return f"geometry is invalid: {explain_validity(shp)}"
    return outside_district(shp)


def outside_district(shp) -> str | None:
    """Why a grid's geometry lies outside the district, or None. (The database checks each child
    against its parent; this bounds the top of the tree, which has no parent.)"""
    minx, miny, maxx, maxy = shp.bounds
    bx0, by0, bx1, by1 = district_bbox()
    t = DISTRICT_TOLERANCE_DEG
    if minx < bx0 - t or miny < by0 - t or maxx > bx1 + t or maxy > by1 + t:
        return (
            f"the grid ({minx:.6f}, {miny:.6f}) - ({maxx:.6f}, {maxy:.6f}) reaches outside the district "
            f"({bx0}, {by0}, {bx1}, {by1}): wrong CRS or axis order?"
        )
    return None


@contextmanager
def topology_errors():
    """Turns the database's topology refusals into a ServiceError naming the grids and the place."""
    try:
        yield
    except DatabaseError as exc:
        cause = exc.__cause__
        if getattr(cause, "sqlstate", None) in TOPOLOGY_STATES:
            raise ServiceError({"geom": cause.diag.message_primary}) from exc
        raise


def check_topology_now():
    """Runs the pending deferred topology checks now, then defers again: a multi-edit transaction
    (a WFS-T with several operations) calls this once, after its last edit."""
    with topology_errors(), connection.cursor() as cur:
        # One round trip: the checks run at IMMEDIATE, and the second half defers any later edit again.
        cur.execute("SET CONSTRAINTS grid_topology IMMEDIATE; SET CONSTRAINTS grid_topology DEFERRED")


def _validate(code: str, level: GridLevel, parent_code: str, geom) -> None:
    errors = {}
    if not is_ascii_digits(code) or len(code) != level.code_length:
        errors["code"] = f"a {level.name} code has {level.code_length} digits"
    elif parent_code and not code.startswith(parent_code):
        errors["code"] = f"must extend the parent's code {parent_code}"
    if level.level > 1:
        parent = Grid.objects.filter(code=parent_code).select_related("level").first()
        if parent is None:
            errors["parent_code"] = f"no current grid {parent_code or '(empty)'}"
        elif parent.level.level != level.level - 1:
            errors["parent_code"] = f"parent is a {parent.level.name}, expected level {level.level - 1}"
    reason = geometry_problem(geom)
    if reason:
        errors["geom"] = reason
    if errors:
        raise ServiceError(errors)


def _name_error(name) -> None:
    reason = bad_character(name)
    if reason:
        raise ServiceError({"name": reason})


@transaction.atomic
def create_grid(
    *, code: str, name: str, level: int | GridLevel, geom, parent_code: str = "", check: bool = True, **extra
) -> Grid:
    level = level if isinstance(level, GridLevel) else GridLevel.objects.get(level=level)
    _name_error(name)
    geom = _as_multipolygon(geom)
    _validate(code, level, parent_code, geom)
    if Grid.objects.filter(code=code).exists():
        raise ServiceError({"code": f"grid {code} exists"})
    with topology_errors():
        grid = Grid.objects.create(code=code, name=name, level=level, parent_code=parent_code, geom=geom, **extra)
    if check:
        check_topology_now()
    grid.refresh_from_db()
    _announce(grid.geom.extent, level.pk)
    if level.level >= 4:
        schedule_reassignment(grid.geom.extent, f"grid {code} created")
    return grid


def _announce(bbox, level: int) -> None:
    # parts: the level's own layer redraws; the other levels' layers (Tiles.changes_part) keep their tiles.
    transaction.on_commit(lambda: grids_changed.send(sender=Grid, bbox=bbox, parts=(level,)))


EDITABLE = {"name", "geom", "organisation", "population", "households"}


# Writable columns of update_grid and how each value is written.
_COLUMNS = {"name": "name", "organisation": "organisation_id", "population": "population", "households": "households"}
_RETURNED = [f.attname for f in Grid._meta.concrete_fields]


def _column_value(name, value):
    if name == "organisation" and value is not None and not isinstance(value, int):
        return value.pk
    return value


def update_grid(grid: Grid | str, *, check: bool = True, **changes) -> Grid:
    """Changes a grid; the database closes its current version and opens the next.

    One UPDATE ... RETURNING does the write, the row lock, the read back and the old extent. Its own
    transaction when called outside one; inside one (a WFS-T, an admin form) no savepoint: a refused
    statement fails the whole transaction anyway, and callers that go on after a refusal (the admin)
    hold their own. The components whose base grid the edit can change get their codes in the same
    transaction."""
    code = grid if isinstance(grid, str) else grid.code
    unknown = changes.keys() - EDITABLE
    if unknown:
        raise ServiceError({k: "cannot be changed" for k in unknown})
    if "name" in changes:
        _name_error(changes["name"])
    sets, params, geom_param = [], [], None
    if "geom" in changes:
        changes["geom"] = _as_multipolygon(changes["geom"])
        reason = geometry_problem(changes["geom"])
        if reason:
            raise ServiceError({"geom": reason})
        sets.append("geom = ST_Transform(ST_GeomFromEWKB(%s), 4490)")
        geom_param = memoryview(changes["geom"].ewkb)
        params.append(geom_param)
    for name, value in changes.items():
        if name != "geom":
            sets.append(f"{_COLUMNS[name]} = %s")
            params.append(_column_value(name, value))
    if not sets:
        sets.append("id = g.id")  # nothing to change: the row is still locked and read
    # The geometry comes back only when it was not sent as stored (the database keeps what it gets).
    sent = changes.get("geom") if "geom" in changes and changes["geom"].srid == 4490 else None
    returned = ", ".join(
        ("NULL" if sent is not None else "ST_AsEWKB(g.geom)") if c == "geom" else f"g.{c}" for c in _RETURNED
    )
    # Where the boundary moved (the symmetric difference of the old and new shape): only there can a
    # component's base grid change, and whether any component stands there is asked in the same
    # statement, so the usual edit (none does) needs no second one.
    moved, anyone = "NULL", "FALSE"
    if "geom" in changes:
        moved = "ST_AsEWKB(m.area)"
        anyone = f"EXISTS (SELECT 1 FROM components_component c WHERE {components_in_area('m.area')})"
    sql = (
        f"UPDATE layers_grid g SET {', '.join(sets)} "
        "FROM (SELECT id, geom FROM layers_grid WHERE code = %s FOR UPDATE) o, "
        # OFFSET 0: computed once, not copied into each use.
        "LATERAL (SELECT ST_SymDifference(o.geom, ST_Transform(ST_GeomFromEWKB(%s), 4490)) AS area OFFSET 0) m "
        f"WHERE g.id = o.id RETURNING {returned}, ST_XMin(o.geom), ST_YMin(o.geom), ST_XMax(o.geom), "
        f"ST_YMax(o.geom), {moved}, {anyone}"
    )
    with transaction.atomic(savepoint=False):
        current = _write_grid(sql, [*params, code, geom_param], code, check, sent)
    if current is None:
        raise ServiceError({"code": f"no grid {code}"})
    return current


def _write_grid(sql: str, params: list, code: str, check: bool, sent) -> Grid | None:
    with topology_errors(), connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    if row is None:
        return None
    n = len(_RETURNED)
    values = list(row[:n])
    geom_at = _RETURNED.index("geom")
    values[geom_at] = sent if sent is not None else GEOSGeometry(memoryview(bytes(values[geom_at])))
    current = Grid.from_db(connection.alias, _RETURNED, values)
    old_extent, moved_area, components_there = row[n : n + 4], row[n + 4], row[n + 5]
    if check:
        check_topology_now()
    new = current.geom.extent
    bbox = (
        min(old_extent[0], new[0]),
        min(old_extent[1], new[1]),
        max(old_extent[2], new[2]),
        max(old_extent[3], new[3]),
    )
    _announce(bbox, current.level_id)
    if components_there and current.level_id >= 4:
        reassign(bbox, bytes(moved_area), f"grid {code} boundary changed")
    return current


@transaction.atomic
def delete_grid(grid: Grid | str) -> None:
    code = grid if isinstance(grid, str) else grid.code
    current = Grid.objects.filter(code=code).first()
    if current is None:
        raise ServiceError({"code": f"no grid {code}"})
    with topology_errors():
        current.delete()
    _announce(current.geom.extent, current.level_id)
    if current.level_id >= 4:
        schedule_reassignment(current.geom.extent, f"grid {code} deleted")


def grid_as_of(code: str, when) -> GridVersion | None:
    """The version of grid `code` that was current at `when`."""
    return (
        GridVersion.objects.filter(code=code, valid_from__lte=when)
        .exclude(valid_to__lte=when)
        .order_by("-version")
        .first()
    )
