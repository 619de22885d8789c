"""manage.py load_basemap FILE.gpkg [--layer water --layer buildings] [--kind water=green] [--if-empty]:
basemap layers from a GeoPackage (or any OGR source) in any EPSG system, all rows or none."""

from django.core.management.base import BaseCommand, CommandError

from gis_core.errors import ServiceError


class Command(BaseCommand):
    help = "Loads every layer of a GeoPackage as a basemap layer (all rows or none); a same-named layer is replaced."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--layer", action="append", default=None, help="a layer to load (repeat; default: all)")
        parser.add_argument(
            "--kind",
            action="append",
            default=[],
            help="LAYER=water|building|green|road|other (default: guessed from the layer name)",
        )
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any basemap layer exists")

    def handle(self, *args, file, layer, kind, if_empty, **options):
        from layers.basemap.models import BasemapLayer
        from layers.basemap.services import load_basemap

        if if_empty and BasemapLayer.objects.exists():
            self.stdout.write(f"basemap: skipped, {BasemapLayer.objects.count()} layers already loaded")
            return
        kinds = {}
        for spec in kind:
            name, sep, value = spec.partition("=")
            if not sep:
                raise CommandError(f"--kind {spec!r}: write LAYER=KIND")
            kinds[name] = value
        try:
            report = load_basemap(file, layer, kinds=kinds)
        except ServiceError as exc:
            raise CommandError("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
        if not report.ok:
            for e in report.errors[:20]:
                self.stderr.write(f"  layer {e.layer}, row {e.row}, {e.field}: {e.reason}")
            raise CommandError(f"{len(report.errors)} bad rows in {report.rows:,}; nothing was written")
        for name, count in report.layers.items():
            again = " (replaced)" if name in report.replaced else ""
            self.stdout.write(f"basemap_{name}: {count:,} features{again}")
