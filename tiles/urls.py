from django.urls import path, re_path

from . import views
from .raster import views as raster_views

# Segments are matched loosely and checked in the views, so a malformed z/x/y gets a 400 that says
# what is wrong rather than a bare 404.
urlpatterns = [
    path("tiles/", views.tile_catalogue, name="tile-catalogue"),
    path("tiles/style.json", views.style_json, name="tile-style"),
    re_path(r"^tiles/auth/(?P<layer_id>[^/]+)$", views.tile_auth, name="tile-auth"),
    re_path(r"^tiles/(?P<layer_id>[^/]+)\.json$", views.tilejson, name="tilejson"),
    re_path(r"^tiles/(?P<layers>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.mvt$", views.mvt, name="tile-mvt"),
    re_path(
        r"^tiles/(?P<layer_id>[^/,]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.png$",
        raster_views.png_tile,
        name="tile-png",
    ),
]
