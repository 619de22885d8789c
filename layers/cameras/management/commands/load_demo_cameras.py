"""manage.py load_demo_cameras [--scale demo|city] [--count N] [--seed 1] [--if-empty]"""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Demo cameras on the demo city's roads: at junctions, then mid-block (300 at --scale demo, "
        "8,600 at --scale city). Refused in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["tiny", "demo", "city"], default=None)
        parser.add_argument("--count", type=int, default=None, help="default: 300 (demo), 8600 (city)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any camera exists")

    def handle(self, *args, scale, count, seed, if_empty, **options):
        from layers.cameras.demo import DemoRefused, load

        try:
            summary = load(count=count, scale=scale, seed=seed, if_empty=if_empty)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if summary["skipped"]:
            self.stdout.write("demo cameras: skipped, cameras already there")
        else:
            self.stdout.write(
                f"demo cameras: {summary['created']} created ({summary['junctions']} at junctions, "
                f"{summary['mid_block']} mid-block, {summary['scale']} roads)"
            )
