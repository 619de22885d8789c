"""Public pages at the site root: the component ID card and its QR codes (no login)."""

from django.urls import re_path

from . import views

# Codes are matched loosely here so that a mistyped code gets the card's own 404 page.
urlpatterns = [
    re_path(r"^c/(?P<code>[^/]+)/qr\.svg$", views.component_qr_svg, name="component-card-qr-svg"),
    re_path(r"^c/(?P<code>[^/]+)/qr\.png$", views.component_qr_png, name="component-card-qr-png"),
    re_path(r"^c/(?P<code>[^/]+)/?$", views.component_card, name="component-card"),
]
