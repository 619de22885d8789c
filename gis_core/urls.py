from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from layers.ogc import views as ogc_views

from . import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("wfs", ogc_views.wfs, name="wfs"),
    path("ows", ogc_views.ows, name="ows"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("components.api.urls")),
    path("api/", include("layers.api.urls")),
    path("", include("tiles.urls")),
    path("", include("components.urls")),
]
