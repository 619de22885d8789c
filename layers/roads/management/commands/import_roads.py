"""manage.py import_roads FILE [--layer roads] [--replace]: roads from any OGR layer, all rows or none."""

from django.core.management.base import BaseCommand, CommandError

from gis_core.errors import ServiceError


class Command(BaseCommand):
    help = "Imports road centre lines from a GeoPackage/Shapefile/GeoJSON layer (all rows or none)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--layer", default=None, help="layer name (default: the first layer)")
        parser.add_argument("--replace", action="store_true", help="delete every road first (same transaction)")

    def handle(self, *args, file, layer, replace, **options):
        from layers.roads.services import import_roads

        try:
            report = import_roads(file, layer, replace=replace)
        except ServiceError as exc:
            raise CommandError("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
        if not report.ok:
            for e in report.errors[:20]:
                self.stderr.write(f"  row {e.row}, {e.field}: {e.reason}")
            raise CommandError(f"{len(report.errors)} bad rows in {report.rows:,}; nothing was written")
        self.stdout.write(f"roads: {report.created:,} imported, {report.deleted:,} replaced")
