from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from layers.ogc import views as ogc_views

from . import health, views

# A server we need being down answers 503 with Retry-After, not 500 (gis_core/unavailable.py).
handler500 = "gis_core.unavailable.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(
        template_name="gis_core/login.html", redirect_authenticated_user=True, next_page="home"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("wfs", ogc_views.wfs, name="wfs"),
    path("ows", ogc_views.ows, name="ows"),
    path("wms", ogc_views.wms_views.wms, name="wms"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("components.api.urls")),
    path("api/", include("layers.api.urls")),
    path("", include("tiles.urls")),
    path("", include("components.urls")),
]
