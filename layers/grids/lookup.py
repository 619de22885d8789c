from django.contrib.gis.geos import Point

from .models import Grid


def grids_at(lon: float, lat: float, qs=None) -> list[Grid]:
    """Every grid containing the point, from the district down to the base or micro grid."""
    qs = Grid.objects.all() if qs is None else qs
    point = Point(lon, lat, srid=4490)
    return list(
        qs.filter(geom__intersects=point)
        .select_related("level", "organisation")
        .prefetch_related("staff")
        .order_by("level_id")
    )
