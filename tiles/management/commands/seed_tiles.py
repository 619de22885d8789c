from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from layers import catalogue
from tiles.seeding import plan, seed


class Command(BaseCommand):
    help = "Renders tiles into the cache ahead of use (default: every tile layer over the district, z10-z14)."

    def add_arguments(self, parser):
        parser.add_argument("--layers", default="", help="comma-separated layer ids (default: all tile layers)")
        parser.add_argument("--zooms", default="10-14", help="a zoom or a range, e.g. 12 or 10-14")
        parser.add_argument("--bbox", default="", help="west,south,east,north in degrees (default: the district)")
        parser.add_argument("--background", action="store_true", help="queue a Celery task instead")

    def handle(self, *args, layers, zooms, bbox, background, **options):
        ids = [s for s in layers.split(",") if s] or [
            layer.id for layer in catalogue.layers() if layer.tiles is not None
        ]
        try:
            lo, _, hi = zooms.partition("-")
            lo, hi = int(lo), int(hi or lo)
            box = tuple(float(v) for v in bbox.split(",")) if bbox else None
            if box is not None and len(box) != 4:
                raise ValueError("bbox needs four numbers")
            total = len(plan(ids, range(lo, hi + 1), box))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if background:
            from tiles.tasks import seed_tiles

            result = seed_tiles.delay(ids, lo, hi, box)
            self.stdout.write(f"queued task {result.id} for {total} tiles")
            return
        with tqdm(total=total, unit="tile", disable=options["verbosity"] == 0) as bar:

            def progress(done, _total):
                bar.update(done - bar.n)

            outcome = seed(ids, range(lo, hi + 1), box, progress)
        self.stdout.write(f"seeded {outcome['tiles']} tiles ({outcome['non_empty']} with features)")
