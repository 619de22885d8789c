"""An optional copy of unfiltered tiles on disk, for nginx to serve without Python (deploy/nginx/).

Layout: {TILE_DISK_DIR}/{scope}/{layer}/{z}/{x}/{y}.mvt and .mvt.gz (for gzip_static). Redis stays the
authority: a file is written only after its entry was stored under an unchanged stamp, and is removed
again if the stamp moved while it was written; invalidation moves stamps first, then deletes files.
So a file never outlives the invalidation of its tile."""

import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

from . import cache


def root() -> Path | None:
    d = getattr(settings, "TILE_DISK_DIR", "")
    return Path(d) if d else None


def _paths(base: Path, scope: str, layer_id: str, z: int, x: int, y: int) -> tuple[Path, Path]:
    p = base / scope / layer_id / str(z) / str(x) / f"{y}.mvt"
    return p, p.with_name(p.name + ".gz")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def mirror(layer, z, x, y, scope: str, raw: bytes, entry: cache.Entry, slot: cache.Slot) -> None:
    base = root()
    if base is None:
        return
    raw_path, gz_path = _paths(base, scope, layer.id, z, x, y)
    _write(gz_path, entry.gz)
    _write(raw_path, raw)
    if not cache.still_current(layer, z, slot):
        remove_files(raw_path, gz_path)


def remove_files(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _scopes(base: Path):
    return [d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")]


def drop_tiles(layer, tiles) -> None:
    base = root()
    if base is None or not base.exists():
        return
    for scope_dir in _scopes(base):
        for z, x, y in tiles:
            remove_files(*_paths(scope_dir.parent, scope_dir.name, layer.id, z, x, y))


def drop_zoom(layer, z: int) -> None:
    base = root()
    if base is None or not base.exists():
        return
    for scope_dir in _scopes(base):
        d = scope_dir / layer.id / str(z)
        if d.exists():
            # Renamed away at once (nginx stops finding the files), then deleted at leisure.
            trash = Path(tempfile.mkdtemp(dir=base, prefix=".trash"))
            os.replace(d, trash / "z")
            shutil.rmtree(trash, ignore_errors=True)
