"""manage.py export_components OUT.gpkg [--format gpkg|geojson|csv] [--class 0118] [--state intact] [--owner USCC]"""

from django.core.management.base import BaseCommand, CommandError

from components.exporting import FORMATS, export_components
from components.models import Component


class Command(BaseCommand):
    help = "Exports components in the native layout (re-importing the file changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", choices=sorted(FORMATS), help="default: from the file suffix")
        parser.add_argument("--class", dest="class_code", action="append", help="class code (repeatable)")
        parser.add_argument("--state", action="append")
        parser.add_argument("--owner", help="owner USCC")
        parser.add_argument("--maintainer", help="maintainer USCC")

    def handle(self, path, format, class_code, state, owner, maintainer, **opts):
        fmt = format or path.rsplit(".", 1)[-1].lower()
        if fmt == "json":
            fmt = "geojson"
        if fmt not in FORMATS:
            raise CommandError(f"cannot tell the format of {path}: give --format")
        qs = Component.objects.all()
        if class_code:
            qs = qs.filter(component_class__code__in=class_code)
        if state:
            qs = qs.filter(state__code__in=state)
        if owner:
            qs = qs.filter(owner__uscc=owner)
        if maintainer:
            qs = qs.filter(maintainer__uscc=maintainer)
        n = export_components(qs, fmt, path)
        self.stdout.write(f"{n} components written to {path}")
