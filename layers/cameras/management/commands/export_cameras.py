"""manage.py export_cameras FILE.csv|FILE.xlsx|FILE.gpkg [--grid CODE,...] [--state online,...]"""

from django.core.management.base import BaseCommand, CommandError

from gis_core.errors import ServiceError


class Command(BaseCommand):
    help = "Write the cameras as a GB/T 28181 catalogue (CSV, XLSX or GeoPackage) that import_cameras reads back."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--grid", default="", help="base grid codes, comma-separated")
        parser.add_argument("--state", default="", help="online, offline, fault; comma-separated")

    def handle(self, *args, path, grid, state, **options):
        from pathlib import Path

        from layers.cameras.importer import export_file
        from layers.cameras.models import Camera

        qs = Camera.objects.all()
        if grid:
            qs = qs.filter(grid_code__in=grid.split(","))
        if state:
            qs = qs.filter(state__in=state.split(","))
        try:
            n = export_file(qs, Path(path).suffix.lower().lstrip("."), path, with_stream=True)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from exc
        self.stdout.write(f"cameras: {n} written to {path}")
