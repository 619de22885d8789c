"""manage.py import_components FILE [--srid 4527] [--encoding gbk] [--mapping '{"class_code": "类别"}'] [--dry-run]
[--mode auto|upsert|initial|replace]"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from components.importing import import_file


class Command(BaseCommand):
    help = "Imports components from a GeoPackage, zipped Shapefile, GeoJSON or CSV (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--srid", help="CRS of the coordinates: 4490, 4326, 4513-4554, GCJ02, BD09 (CSV: required)")
        parser.add_argument("--encoding", help="text encoding, e.g. utf-8 or gbk (default: detected)")
        parser.add_argument("--mapping", help="JSON {native_field: file_column}, or @file.json")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument(
            "--mode",
            choices=["auto", "upsert", "initial", "replace"],
            default="auto",
            help="auto (default): an initial load when the registry is empty, else upsert; upsert: merge the "
            "rows into the registry (new and changed rows written, unchanged skipped); initial: load into a "
            "fresh table, build its indexes, history and cluster counts after, and swap it in at commit "
            "(readers see the old registry until then); refused unless the registry is empty; replace: the file "
            "becomes the whole registry the same way (components not in it are deleted, with history; a kept "
            "code keeps its ID), refused when a component to delete is referred to (photos, cases, transfers)",
        )
        parser.add_argument("--user", help="username recorded in the history")
        parser.add_argument("--max-errors", type=int, default=50, help="how many errors to print")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, path, srid, encoding, mapping, dry_run, user, max_errors, json: bool = False, mode="auto", **opts):
        mapping_obj = None
        if mapping:
            text = Path(mapping[1:]).read_text(encoding="utf-8") if mapping.startswith("@") else mapping
            try:
                mapping_obj = _json.loads(text)
            except ValueError as exc:
                raise CommandError(f"--mapping is not JSON: {exc}") from None
        user_obj = None
        if user:
            user_obj = get_user_model().objects.filter(username=user).first()
            if user_obj is None:
                raise CommandError(f"no user {user!r}")
        bar = tqdm(total=0, unit="rows", unit_scale=True, desc="import", disable=opts.get("verbosity", 1) == 0)

        def progress(done, total):
            if bar.total != total:
                bar.total = total
            bar.n = done
            bar.refresh()

        try:
            result = import_file(
                path,
                srid=srid,
                encoding=encoding,
                mapping=mapping_obj,
                dry_run=dry_run,
                user=user_obj,
                progress=progress,
                mode=mode,
            )
        finally:
            bar.close()
        if json:
            self.stdout.write(_json.dumps(result.as_dict(max_errors=max_errors), ensure_ascii=False, indent=1))
        else:
            for w in result.warnings:
                self.stderr.write(f"warning: {w}")
            for e in result.errors[:max_errors]:
                self.stderr.write(f"row {e.row if e.row is not None else '-'}\t{e.field}\t{e.reason}")
            if len(result.errors) > max_errors:
                self.stderr.write(f"... and {len(result.errors) - max_errors} more errors")
            rate = result.rows / result.seconds if result.seconds else 0
            self.stdout.write(
                f"{'dry run: ' if dry_run else ''}{result.rows} rows in {result.seconds:.1f}s ({rate:,.0f} rows/s): "
                f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged, "
                + (f"{result.deleted} deleted, " if result.mode == "replace" else "")
                + f"{len(result.errors)} errors"
                + (f" ({result.mode} mode)" if result.mode else "")
            )
        if not result.ok:
            raise CommandError(f"nothing was written: {len(result.errors)} error(s)")


_json = json
