"""manage.py load_demo_city --scale demo|city --seed 1 [--if-empty]: the synthetic 兖州区 demo city."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Generates the demo city (roads, basemap, components of 370812 兖州区) and imports it. Idempotent."

    def add_arguments(self, parser):
        from fixtures.demo_city import SCALES

        parser.add_argument("--scale", default="demo", choices=sorted(SCALES), help="demo ~50k, city ~1M components")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any component exists")
        parser.add_argument(
            "--out-dir", default=None, help="where the GeoPackage goes (default: $GRIDCITY_STATE/demo_city)"
        )
        parser.add_argument("--regenerate", action="store_true", help="write the GeoPackage again even if present")
        parser.add_argument("--no-grids", action="store_true", help="do not load the grid hierarchy")

    def _grids(self, g):
        if not g:
            return
        names = {1: "district", 2: "streets", 3: "communities", 4: "base grids"}
        levels = ", ".join(f"{g['levels'].get(k, 0):,} {n}" for k, n in names.items())
        how = (
            "already present" if g["skipped"] else f"loaded in {g.get('insert_seconds', 0)}s, {g['staff']:,} grid staff"
        )
        self.stdout.write(
            f"grids: {levels} ({how}); {g['components_assigned']:,} components in a base grid, "
            f"{g['components_without_grid']:,} without; {g['seconds']}s"
        )
        if g["components_without_grid"]:
            self.stderr.write(f"warning: {g['components_without_grid']:,} components are in no base grid")

    def _roads(self, scale, seed, out_dir, only_if_none=False):
        """The gpkg's `roads` layer replaces the road network (the streets patrol coverage is measured on)."""
        from fixtures.demo_city.loader import generate_for_load
        from layers.roads.models import Road
        from layers.roads.services import import_roads

        if only_if_none and Road.objects.exists():
            return
        report = import_roads(generate_for_load(scale, seed, out_dir, True)["gpkg"], "roads", replace=True)
        if not report.ok:
            raise CommandError(f"demo roads: {len(report.errors)} bad rows; nothing was written")
        self.stdout.write(f"roads: {report.created:,} road pieces")

    def _basemap(self, scale, seed, out_dir):
        """Water, green and buildings of the district (fixtures.demo_city.basemap), once: a basemap already
        loaded (the demo's or one from load_basemap) is kept."""
        from fixtures.demo_city.basemap import generate_basemap
        from fixtures.demo_city.loader import default_out_dir
        from layers.basemap.models import BasemapLayer
        from layers.basemap.services import load_basemap

        if BasemapLayer.objects.exists():
            return
        report = load_basemap(generate_basemap(scale, seed, out_dir or default_out_dir()))
        if not report.ok:
            raise CommandError(f"demo basemap: {len(report.errors)} bad rows; nothing was written")
        self.stdout.write("basemap: " + ", ".join(f"{n:,} {layer}" for layer, n in report.layers.items()))

    def handle(self, *args, scale, seed, if_empty, out_dir, regenerate, no_grids=False, **options):
        from fixtures.demo_city import load

        summary = load(
            scale=scale, seed=seed, if_empty=if_empty, out_dir=out_dir, reuse=not regenerate, grids=not no_grids
        )
        if summary["skipped"]:
            self.stdout.write(f"demo city: skipped, {summary['existing']:,} components already registered")
            self._grids(summary.get("grids"))
            self._roads(scale, seed, out_dir, only_if_none=True)
            self._basemap(scale, seed, out_dir)
            return
        if not summary["ok"]:
            for e in summary["errors"][:20]:
                self.stderr.write(f"  row {e.row}, {e.field}: {e.reason}" if hasattr(e, "row") else f"  {e}")
            raise CommandError(f"demo city import failed with {len(summary['errors'])} errors; nothing was written")
        self.stdout.write(
            f"demo city {scale} seed {seed}: {summary['rows']:,} rows from {summary['gpkg']} - "
            f"created {summary['created']:,}, updated {summary['updated']:,}, unchanged {summary['unchanged']:,}; "
            f"{summary['organisations']} organisations; {summary['seconds']}s"
        )
        self._grids(summary.get("grids"))
        self._roads(scale, seed, out_dir)
        self._basemap(scale, seed, out_dir)
