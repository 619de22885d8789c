from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.http import require_GET

from components.models import Component


@require_GET
def home(request):
    """The landing page: what the registry holds and where to go next."""
    by_major = (Component.objects.filter(retired=False)
                .values("component_class__major_code", "component_class__major_name")
                .annotate(n=Count("id")).order_by("component_class__major_code"))
    samples = (Component.objects.filter(retired=False, component_class__code__in=["0118", "0101", "0402"])
               .select_related("component_class").order_by("code")[:3])
    total = sum(row["n"] for row in by_major)
    return render(request, "gis_core/home.html", {"by_major": by_major, "total": total, "samples": samples})
