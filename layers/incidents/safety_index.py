"""平安指数 (safety index) per base grid and community, materialised in incidents_safetyindex.

    weight(case) = class weight (by major class code, default 1) x severity weight
    rate         = sum of weights of the cases reported in the window (void ones left out)
                   per 1,000 residents
    score        = 100 x exp(-rate / GRIDCITY_SAFETY_SCALE), rounded to 0.1

so 0 cases give 100, a rate equal to the scale gives 36.8, and the score never leaves 0-100. A grid
without residents gets no score (shown grey). docs/incidents-reports.md has the details.

`refresh()` rebuilds the table in one transaction (the Celery task `incidents.refresh_safety_index`
calls it; the lead schedules it), then drops the layers' cached tiles."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

COMMUNITY_LEVEL = 3
BASE_LEVEL = 4

# Sent after commit when the index was rebuilt (bbox=None: every tile of the layers).
safety_index_changed = Signal()


def _setting(name: str, default):
    return getattr(settings, name, default)


SEED_POPULATION = """
INSERT INTO incidents_gridpopulation (grid_code, population, as_of, source)
SELECT code,
       COALESCE(population, GREATEST(round(area_m2 / 1e6 * %(density)s), 0)::int),
       %(today)s,
       CASE WHEN population IS NULL THEN 'area' ELSE 'grid' END
  FROM layers_grid
 WHERE level_id = %(base)s
ON CONFLICT (grid_code) DO UPDATE
   SET population = EXCLUDED.population, as_of = EXCLUDED.as_of, source = EXCLUDED.source
 WHERE incidents_gridpopulation.source <> 'admin'
   AND incidents_gridpopulation.population IS DISTINCT FROM EXCLUDED.population
"""

REBUILD = """
WITH class_weight(major, weight) AS (SELECT * FROM unnest(%(majors)s::text[], %(major_weights)s::float8[])),
severity_weight(severity, weight) AS (SELECT * FROM unnest(%(severities)s::text[], %(severity_weights)s::float8[])),
cases AS (
    SELECT c.grid_code, c.community_code, COALESCE(cw.weight, 1.0) * COALESCE(sw.weight, 1.0) AS weight
      FROM incidents_case c
      JOIN incidents_caseclass k ON k.id = c.case_class_id
      LEFT JOIN incidents_caseclass major ON major.id = k.parent_id
      LEFT JOIN class_weight cw ON cw.major = left(COALESCE(major.code, k.code), 2)
      LEFT JOIN severity_weight sw ON sw.severity = c.severity
     WHERE c.created_at >= %(since)s AND c.created_at < %(now)s AND c.state <> 'void'
),
by_grid AS (SELECT grid_code AS code, count(*) AS n, sum(weight) AS w FROM cases GROUP BY grid_code),
by_community AS (SELECT community_code AS code, count(*) AS n, sum(weight) AS w FROM cases GROUP BY community_code),
community_population AS (
    SELECT g.parent_code AS code, sum(p.population) AS population
      FROM layers_grid g JOIN incidents_gridpopulation p ON p.grid_code = g.code
     WHERE g.level_id = %(base)s
     GROUP BY g.parent_code
),
scored AS (
    SELECT g.code, g.name, g.level_id, g.geom, p.population, COALESCE(b.n, 0) AS n, COALESCE(b.w, 0) AS w
      FROM layers_grid g
      LEFT JOIN incidents_gridpopulation p ON p.grid_code = g.code
      LEFT JOIN by_grid b ON b.code = g.code
     WHERE g.level_id = %(base)s
    UNION ALL
    SELECT g.code, g.name, g.level_id, g.geom, COALESCE(own.population, cp.population), COALESCE(b.n, 0), COALESCE(b.w, 0)
      FROM layers_grid g
      LEFT JOIN incidents_gridpopulation own ON own.grid_code = g.code
      LEFT JOIN community_population cp ON cp.code = g.code
      LEFT JOIN by_community b ON b.code = g.code
     WHERE g.level_id = %(community)s
)
INSERT INTO incidents_safetyindex
    (grid_code, name, level, geom, population, cases, weighted_cases, rate_per_1000, score, window_days, computed_at)
SELECT code, name, level_id, geom, population, n, w,
       CASE WHEN population > 0 THEN w * 1000.0 / population END,
       CASE WHEN population > 0 THEN round((100 * exp(-(w * 1000.0 / population) / %(scale)s))::numeric, 1) END,
       %(days)s, %(now)s
  FROM scored
"""


def weights() -> tuple[dict, dict]:
    return (
        dict(_setting("GRIDCITY_SAFETY_CLASS_WEIGHTS", {})),
        dict(_setting("GRIDCITY_SAFETY_SEVERITY_WEIGHTS", {"normal": 1.0, "major": 2.0, "urgent": 3.0})),
    )


def score(rate_per_1000: float, scale: float | None = None) -> float:
    """The formula of REBUILD, for documentation and tests."""
    import math

    scale = scale or float(_setting("GRIDCITY_SAFETY_SCALE", 20))
    return round(100 * math.exp(-rate_per_1000 / scale), 1)


def seed_populations(today: dt.date | None = None) -> int:
    """Base grids' residents from the grid register (or the area times a default density when the
    register has none); numbers an admin typed in are kept."""
    with connection.cursor() as cursor:
        cursor.execute(
            SEED_POPULATION,
            {
                "density": float(_setting("GRIDCITY_SAFETY_DEFAULT_DENSITY_KM2", 8000)),
                "today": today or timezone.localdate(),
                "base": BASE_LEVEL,
            },
        )
        return cursor.rowcount


def refresh(now: dt.datetime | None = None, window_days: int | None = None) -> int:
    """Rebuilds the index over the rolling window ending `now`; returns the rows written."""
    now = now or timezone.now()
    days = int(window_days or _setting("GRIDCITY_SAFETY_WINDOW_DAYS", 30))
    majors, severities = weights()
    with transaction.atomic():
        seed_populations(now.date())
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM incidents_safetyindex")
            cursor.execute(
                REBUILD,
                {
                    "majors": list(majors),
                    "major_weights": [float(v) for v in majors.values()],
                    "severities": list(severities),
                    "severity_weights": [float(v) for v in severities.values()],
                    "since": now - dt.timedelta(days=days),
                    "now": now,
                    "base": BASE_LEVEL,
                    "community": COMMUNITY_LEVEL,
                    "scale": float(_setting("GRIDCITY_SAFETY_SCALE", 20)),
                    "days": days,
                },
            )
            written = cursor.rowcount
        transaction.on_commit(lambda: safety_index_changed.send(sender=None, bbox=None))
    return written
