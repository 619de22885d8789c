"""manage.py import_cameras FILE.csv|FILE.xlsx|FILE.gpkg [--encoding gbk] — GB/T 28181 catalogue, row report."""

from django.core.management.base import BaseCommand, CommandError

from gis_core.errors import ServiceError


class Command(BaseCommand):
    help = "Create or update cameras from a GB/T 28181 catalogue: CSV, XLSX or GeoPackage (DeviceID, Name, ...)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--encoding", default="utf-8-sig", help="CSV only; GBK exports: --encoding gbk")

    def handle(self, *args, path, encoding, **options):
        from layers.cameras.importer import import_file

        try:
            report = import_file(None, path, encoding=encoding)
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from exc
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        for row in report["rows"]:
            if row["result"] == "refused":
                self.stdout.write(f"line {row['line']} {row['device_id']}: refused, {row['field']}: {row['message']}")
        self.stdout.write(
            f"cameras: {report['created']} created, {report['updated']} updated, {report['refused']} refused"
        )
