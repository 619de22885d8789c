"""The tile-only WSGI application (tiles/service.py), for a server of its own next to the Django one:

    granian --interface wsgi --workers 2 --blocking-threads 2 gis_core.tiles_wsgi:application

It answers `GET /tiles/{layers}/{z}/{x}/{y}.mvt` exactly as gis_core.wsgi does (same code) and a JSON
404 to anything else; deploy/nginx routes the .mvt paths to it (docs/tiles.md, "The tile service")."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")
django.setup(set_prefix=False)

from tiles.service import application  # noqa: E402 - needs the settings configured above

__all__ = ["application"]
