from django.db.models import QuerySet

from components import roles

from .models import Grid, GridGap


def visible_grids(user) -> QuerySet:
    """Grids are public within the organisation: every role reads them; anonymous users do not."""
    qs = Grid.objects.select_related("level", "organisation")
    return qs if roles.can_read(user) else qs.none()


def visible_gaps(user) -> QuerySet:
    return GridGap.objects.all() if roles.can_read(user) else GridGap.objects.none()
