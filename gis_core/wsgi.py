import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")
_django = get_wsgi_application()

from tiles.fastpath import wrap  # noqa: E402 - needs the settings configured above

application = wrap(_django)
