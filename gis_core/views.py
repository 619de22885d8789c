import json

from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models import Extent
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from components import roles
from layers.grids.selectors import visible_grids


@require_GET
@login_required
def home(request):
    """The map viewer: MapLibre over our own vector tiles; everything else it reads comes from /tiles/ and /api/."""
    # Open on the city: the extent of the top-level grids (a handful of rows), if any are loaded.
    top = visible_grids(request.user).order_by("level_id").values_list("level_id", flat=True).first()
    extent = visible_grids(request.user).filter(level_id=top).aggregate(e=Extent("geom"))["e"] if top else None
    bounds = json.dumps([[extent[0], extent[1]], [extent[2], extent[3]]]) if extent else ""
    # The roles only decide which buttons the viewer offers; the API checks every step again.
    held = ",".join(sorted(roles.roles_of(request.user)))
    unit = roles.organisation_of(request.user)  # offers 本单位部件 to an account linked to a unit
    return render(request, "gis_core/viewer.html", {"bounds": bounds, "roles": held, "unit": unit})


@require_GET
def session(request):
    """Whether this browser's session is still logged in: the viewer asks when an API call is refused,
    to tell an ended session (登录已过期, log in again) from a missing permission (无权查看)."""
    user = request.user
    body = {"authenticated": bool(user.is_authenticated)}
    if user.is_authenticated:
        body.update(username=user.get_username(), is_staff=bool(user.is_staff))
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response
