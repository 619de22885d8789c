"""What the one search box finds among the map layers (gis_core.search): grids by code or name, and
roads by name when a roads table is installed (`roads_road (name, geom)`, from the roads layer app;
until it exists the provider answers nothing). Both are read by every role that reads the map."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import Envelope, PointOnSurface
from django.db import connection
from django.db.models import Q

from components import roles
from components.search import code_prefix_q
from gis_core import search
from gis_core.search import Group, Query, Result

from .grids.selectors import visible_grids
from .models import Grid

ROADS_TABLE = "roads_road"


def search_grids(user, query: Query) -> Group:
    text = query.text
    match = Q(name__icontains=text)
    if query.digits and len(text) <= 18:
        match |= code_prefix_q(text)
    qs = visible_grids(user).filter(match)
    count = qs.count()
    if count == 0:
        return search.EMPTY
    page = list(
        qs.defer("geom")
        .annotate(label_point=PointOnSurface("geom"), box=Envelope("geom"))
        .order_by("level_id", "code")[query.offset : query.offset + query.limit]
    )
    parents = dict(
        Grid.objects.filter(code__in={g.parent_code for g in page if g.parent_code}).values_list("code", "name")
    )
    results = []
    for g in page:
        parent = f"上级 {parents.get(g.parent_code, g.parent_code)}" if g.parent_code else ""
        org = g.organisation.name if g.organisation_id else ""
        subtitle = " · ".join(p for p in (g.level.name, g.code, parent, org) if p)
        results.append(
            Result(
                id=g.code,
                title=g.name,
                subtitle=subtitle,
                lon=g.label_point.x,
                lat=g.label_point.y,
                bbox=list(g.box.extent),
                url=f"/api/grids/{g.code}/",
            )
        )
    return Group(count, results)


def _roads_installed() -> bool:
    return ROADS_TABLE in connection.introspection.table_names()


def search_roads(user, query: Query) -> Group:
    """Roads by name, one result per name (a road is often several segments)."""
    if not roles.can_read(user) or query.digits or not _roads_installed():
        return search.EMPTY
    like = query.like
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(DISTINCT name) FROM {ROADS_TABLE} WHERE name ILIKE %s", [like])
        count = cursor.fetchone()[0]
        if not count:
            return search.EMPTY
        cursor.execute(
            "SELECT name, n, ST_X(p), ST_Y(p), ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM ("
            "SELECT name, count(*) AS n, ST_Extent(g)::geometry AS b,"
            " ST_ClosestPoint(ST_Collect(g), ST_Centroid(ST_Collect(g))) AS p FROM ("
            f"SELECT name, ST_Transform(geom, 4490) AS g FROM {ROADS_TABLE} WHERE name ILIKE %s) r "
            "GROUP BY name ORDER BY name LIMIT %s OFFSET %s) q ORDER BY name",
            [like, query.limit, query.offset],
        )
        rows = cursor.fetchall()
    return Group(
        count,
        [
            Result(
                id=name,
                title=name,
                subtitle=f"道路 · {n} 段" if n > 1 else "道路",
                lon=x,
                lat=y,
                bbox=[w, s, e, nn],
                url=None,
            )
            for name, n, x, y, w, s, e, nn in rows
        ],
    )


search.register(search.Provider("grid", "网格", search_grids, order=30))
search.register(search.Provider("road", "道路", search_roads, order=50))
