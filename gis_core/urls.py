from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from layers import preview as layer_preview
from layers.ogc import views as ogc_views
from layers.printing import views as print_views

from . import auth, health, measure, search_api, views

# The admin's login form too answers a throttled login with its message (gis_core.auth).
admin.site.login_form = auth.AdminLoginForm

# A server we need being down answers 503 with Retry-After, not 500 (gis_core/unavailable.py).
handler500 = "gis_core.unavailable.server_error"
# An address nothing serves: JSON under /api/, a Chinese page elsewhere (gis_core/not_found.py).
handler404 = "gis_core.not_found.page_not_found"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth.login_view, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("status/", health.status_page, name="status"),
    path("api/session/", views.session, name="session"),
    path("wfs", ogc_views.wfs, name="wfs"),
    path("ows", ogc_views.ows, name="ows"),
    path("wms", ogc_views.wms_views.wms, name="wms"),
    path("admin/login/", auth.answers_throttled_logins_with_429(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/search/", search_api.Search.as_view(), name="search"),
    path("api/print/", print_views.print_view, name="print"),
    path("api/measure/", measure.measure_view, name="measure"),
    path("layers/preview/", layer_preview.preview_list, name="layer-preview-list"),
    path("layers/preview/<str:layer_id>/", layer_preview.preview_layer, name="layer-preview"),
    path("api/", include("components.api.urls")),
    path("api/", include("layers.api.urls")),
    path("api/", include("layers.incidents.urls")),
    path("api/", include("layers.patrols.urls")),
    path("api/", include("layers.cameras.urls")),
    path("open311/v2/", include("layers.incidents.open311.urls")),
    path("reports/", include("layers.incidents.reports_pages")),  # incidents reports page
    path("", include("tiles.urls")),
    path("", include("components.urls")),
]
