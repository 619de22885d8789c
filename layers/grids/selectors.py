from django.db.models import QuerySet

from components import roles

from .models import Grid


def visible_grids(user) -> QuerySet:
    """Grids are public within the organisation: every role reads them; anonymous users do not."""
    qs = Grid.objects.select_related("level", "organisation")
    return qs if roles.can_read(user) else qs.none()
