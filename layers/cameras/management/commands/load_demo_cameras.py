"""manage.py load_demo_cameras [--count 300] [--seed 1] [--if-empty]"""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Demo cameras at base-grid corners (street junctions of the demo city). Refused in production."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any camera exists")

    def handle(self, *args, count, seed, if_empty, **options):
        from layers.cameras.demo import DemoRefused, load

        try:
            summary = load(count=count, seed=seed, if_empty=if_empty)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if summary["skipped"]:
            self.stdout.write("demo cameras: skipped, cameras already there")
        else:
            self.stdout.write(f"demo cameras: {summary['created']} created")
