"""Reads of patrol coverage: reports per grid, community, street or worker over a date range, the base
grids nobody visited on a day (live, from the fixes), and the on-duty workers nearest a point.
Who may see what is decided by `coverage_scope` (selectors): the SQL here only applies it."""

import datetime as dt

from django.db import connection

from .coverage import BASE_LEVEL, day_bounds

BY = ("grid", "community", "street", "worker")
MAX_RANGE_DAYS = 366
ON_DUTY_MINUTES = 15

# (key, title) of each report's columns, in order.
COLUMNS = {
    "grid": (
        ("grid_code", "网格代码"),
        ("grid_name", "网格名称"),
        ("community_name", "社区"),
        ("street_name", "街道"),
        ("days", "统计天数"),
        ("days_visited", "巡查天数"),
        ("street_m", "道路长度(米)"),
        ("walked_m", "巡查道路(米·天)"),
        ("street_share", "道路覆盖率"),
        ("area_share", "面积覆盖率"),
        ("minutes", "巡查时长(分钟)"),
        ("workers", "网格员"),
    ),
    "community": (
        ("community_code", "社区代码"),
        ("community_name", "社区"),
        ("street_name", "街道"),
        ("grids", "网格数"),
        ("grids_visited", "到访网格数"),
        ("street_share", "道路覆盖率"),
        ("area_share", "面积覆盖率"),
        ("minutes", "巡查时长(分钟)"),
        ("workers", "网格员数"),
    ),
    "street": (
        ("street_code", "街道代码"),
        ("street_name", "街道"),
        ("grids", "网格数"),
        ("grids_visited", "到访网格数"),
        ("street_share", "道路覆盖率"),
        ("area_share", "面积覆盖率"),
        ("minutes", "巡查时长(分钟)"),
        ("workers", "网格员数"),
    ),
    "worker": (
        ("worker", "网格员"),
        ("name", "姓名"),
        ("days_present", "出勤天数"),
        ("grids_visited", "到访网格数"),
        ("minutes", "巡查时长(分钟)"),
        ("assigned_grids", "责任网格"),
        ("assigned_street_share", "责任网格道路覆盖率"),
        ("assigned_area_share", "责任网格面积覆盖率"),
    ),
}

# Coverage rows of the range, with each base grid's names up the hierarchy; %(codes)s NULL = all grids.
_ROWS = """
SELECT c.*, g.name AS grid_name, g.area_m2, cm.code AS community_code, cm.name AS community_name,
       st.code AS street_code, st.name AS street_name
FROM patrols_gridcoverage c
JOIN layers_grid g ON g.code = c.grid_code
LEFT JOIN layers_grid cm ON cm.code = g.parent_code
LEFT JOIN layers_grid st ON st.code = cm.parent_code
WHERE c.day BETWEEN %(first)s AND %(last)s AND (%(codes)s::text[] IS NULL OR c.grid_code = ANY(%(codes)s))
"""

_SHARES = """
       round((sum(walked_m) / nullif(sum(street_m), 0))::numeric, 4)::float8 AS street_share,
       round((sum(area_share * area_m2) / nullif(sum(area_m2), 0))::numeric, 4)::float8 AS area_share,
       round(sum(minutes)::numeric, 1)::float8 AS minutes"""

_SQL = {
    "grid": f"""
WITH r AS ({_ROWS})
SELECT grid_code, grid_name, community_name, street_name, count(*) AS days,
       count(*) FILTER (WHERE minutes > 0) AS days_visited, round(max(street_m)::numeric, 1)::float8 AS street_m,
       round(sum(walked_m)::numeric, 1)::float8 AS walked_m, {_SHARES},
       coalesce((SELECT string_agg(DISTINCT w, ',' ORDER BY w) FROM r r2, unnest(r2.workers) w
                 WHERE r2.grid_code = r.grid_code), '') AS workers
FROM r
GROUP BY grid_code, grid_name, community_name, street_name
ORDER BY grid_code
""",
    "community": f"""
WITH r AS ({_ROWS})
SELECT community_code, community_name, street_name, count(DISTINCT grid_code) AS grids,
       count(DISTINCT grid_code) FILTER (WHERE minutes > 0) AS grids_visited, {_SHARES},
       (SELECT count(DISTINCT w) FROM r r2, unnest(r2.workers) w WHERE r2.community_code = r.community_code) AS workers
FROM r GROUP BY community_code, community_name, street_name ORDER BY community_code
""",
    "street": f"""
WITH r AS ({_ROWS})
SELECT street_code, street_name, count(DISTINCT grid_code) AS grids,
       count(DISTINCT grid_code) FILTER (WHERE minutes > 0) AS grids_visited, {_SHARES},
       (SELECT count(DISTINCT w) FROM r r2, unnest(r2.workers) w WHERE r2.street_code = r.street_code) AS workers
FROM r GROUP BY street_code, street_name ORDER BY street_code
""",
    "worker": f"""
WITH r AS ({_ROWS}),
present AS (
    SELECT m.key AS username, r.day, r.grid_code, m.value::float8 AS minutes
    FROM r, jsonb_each_text(r.worker_minutes) m
),
assigned AS (
    SELECT u.username, a.grid_code, greatest(a.valid_from, %(first)s) AS first_day,
           least(coalesce(a.valid_to, %(last)s), %(last)s) AS last_day
    FROM patrols_patrolassignment a JOIN auth_user u ON u.id = a.worker_id
    WHERE a.valid_from <= %(last)s AND (a.valid_to IS NULL OR a.valid_to >= %(first)s)
      AND (%(workers)s::int[] IS NULL OR a.worker_id = ANY(%(workers)s))
),
duty AS (
    SELECT a.username, string_agg(DISTINCT a.grid_code, ',') AS assigned_grids,
           round((sum(r.walked_m) / nullif(sum(r.street_m), 0))::numeric, 4)::float8 AS assigned_street_share,
           round((sum(r.area_share * r.area_m2) / nullif(sum(r.area_m2), 0))::numeric, 4)::float8
               AS assigned_area_share
    FROM assigned a LEFT JOIN r ON r.grid_code = a.grid_code AND r.day BETWEEN a.first_day AND a.last_day
    GROUP BY a.username
),
names AS (SELECT username FROM present UNION SELECT username FROM duty)
SELECT n.username AS worker, trim(concat(u.last_name, u.first_name)) AS name,
       (SELECT count(DISTINCT day) FROM present p WHERE p.username = n.username) AS days_present,
       (SELECT count(DISTINCT grid_code) FROM present p WHERE p.username = n.username) AS grids_visited,
       coalesce((SELECT round(sum(minutes)::numeric, 1)::float8 FROM present p WHERE p.username = n.username), 0)
           AS minutes,
       coalesce(d.assigned_grids, '') AS assigned_grids, d.assigned_street_share, d.assigned_area_share
FROM names n JOIN auth_user u ON u.username = n.username LEFT JOIN duty d ON d.username = n.username
WHERE (%(workers)s::int[] IS NULL OR u.id = ANY(%(workers)s))
ORDER BY n.username
""",
}


def report(scope, first: dt.date, last: dt.date, by: str) -> dict:
    """{"from", "to", "by", "columns": [{key, title}], "rows": [{...}]} for what `scope` lets through."""
    params = {"first": first, "last": last, "codes": scope.codes, "workers": scope.workers}
    with connection.cursor() as cur:
        cur.execute(_SQL[by], params)
        names = [c.name for c in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "by": by,
        "columns": [{"key": k, "title": t} for k, t in COLUMNS[by]],
        "rows": rows,
    }


def unvisited_grids(scope, day: dt.date) -> list[dict]:
    """Base grids with no fix inside them on `day` (live: read from the fixes), with who answers for them."""
    start, end = day_bounds(day)
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT g.code, g.name, cm.name,
                   coalesce((SELECT array_agg(u.username ORDER BY u.username)
                             FROM patrols_patrolassignment a JOIN auth_user u ON u.id = a.worker_id
                             WHERE a.grid_code = g.code AND a.valid_from <= %(day)s
                               AND (a.valid_to IS NULL OR a.valid_to >= %(day)s)), '{}')
            FROM layers_grid g LEFT JOIN layers_grid cm ON cm.code = g.parent_code
            WHERE g.level_id = %(level)s AND (%(codes)s::text[] IS NULL OR g.code = ANY(%(codes)s))
              AND NOT EXISTS (SELECT 1 FROM patrols_patrolfix f
                              WHERE f.fix_time >= %(start)s AND f.fix_time < %(end)s
                                AND ST_Intersects(f.geom, g.geom))
            ORDER BY g.code
            """,
            {"day": day, "level": BASE_LEVEL, "codes": scope.codes, "start": start, "end": end},
        )
        return [
            {"grid_code": code, "grid_name": name, "community_name": community, "assigned_workers": list(workers)}
            for code, name, community, workers in cur.fetchall()
        ]


def nearest_workers(scope, lon: float, lat: float, n: int) -> list[dict]:
    """Workers with a fix in the last ON_DUTY_MINUTES, nearest first, with the base grid they are in."""
    with connection.cursor() as cur:
        cur.execute(
            """
            WITH here AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4490) AS pt),
            last AS (
                SELECT DISTINCT ON (f.worker_id) f.worker_id, f.fix_time, f.geom
                FROM patrols_patrolfix f
                WHERE f.fix_time > now() - make_interval(mins => %(minutes)s) AND f.fix_time <= now() + interval '5 minutes'
                  AND (%(workers)s::int[] IS NULL OR f.worker_id = ANY(%(workers)s))
                ORDER BY f.worker_id, f.fix_time DESC
            )
            SELECT u.username, trim(concat(u.last_name, u.first_name)), l.fix_time,
                   ST_X(l.geom), ST_Y(l.geom),
                   ST_Distance(l.geom::geography, here.pt::geography) AS d,
                   (SELECT g.code FROM layers_grid g WHERE g.level_id = %(level)s AND ST_Intersects(g.geom, l.geom)
                    ORDER BY g.code LIMIT 1)
            FROM last l CROSS JOIN here JOIN auth_user u ON u.id = l.worker_id
            ORDER BY d, u.username
            LIMIT %(n)s
            """,
            {"lon": lon, "lat": lat, "minutes": ON_DUTY_MINUTES, "workers": scope.workers, "level": BASE_LEVEL, "n": n},
        )
        return [
            {
                "worker": username,
                "name": name,
                "last_fix_time": fix_time.isoformat(),
                "lon": round(x, 7),
                "lat": round(y, 7),
                "distance_m": round(d, 1),
                "grid_code": grid,
            }
            for username, name, fix_time, x, y, d, grid in cur.fetchall()
        ]
