"""Pages at the site root: the component ID card and its QR codes (public), a unit's own pages (login)."""

from django.urls import path, re_path

from . import unit_pages, views

# Codes are matched loosely here so that a mistyped code gets the card's own 404 page.
urlpatterns = [
    re_path(r"^c/(?P<code>[^/]+)/qr\.svg$", views.component_qr_svg, name="component-card-qr-svg"),
    re_path(r"^c/(?P<code>[^/]+)/qr\.png$", views.component_qr_png, name="component-card-qr-png"),
    re_path(r"^c/(?P<code>[^/]+)/?$", views.component_card, name="component-card"),
    # A maintenance unit's own pages (本单位部件), behind the login.
    path("unit/", unit_pages.unit_page, name="unit"),
    path("unit/components.geojson", unit_pages.unit_geojson, name="unit-geojson"),
    re_path(r"^unit/export\.(?P<fmt>csv|xlsx)$", unit_pages.unit_export, name="unit-export"),
]
