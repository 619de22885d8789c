"""Extracting an uploaded zip without trusting it.

A zip's directory states each member's sizes; a bomb states them truthfully (and is refused before
one byte is written) or lies about them (and is stopped by the byte counter while extracting).
Paths are checked before extraction too: nothing lands outside the target directory."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings

from .errors import FileProblem

_CHUNK = 1024 * 1024


def _mib(n: float) -> str:
    return f"{n / (1024 * 1024):,.1f} MiB"


def _limits():
    return (
        settings.GRIDCITY_IMPORT_MAX_UNZIPPED_BYTES,
        settings.GRIDCITY_IMPORT_MAX_ZIP_MEMBERS,
        settings.GRIDCITY_IMPORT_MAX_ZIP_RATIO,
        settings.GRIDCITY_IMPORT_ZIP_RATIO_FROM,
    )


def _safe_name(name: str) -> PurePosixPath:
    """The member's path relative to the target, or a refusal: absolute, drive-letter or `..` paths."""
    text = name.replace("\\", "/")
    path = PurePosixPath(text)
    if text.startswith("/") or (len(text) > 1 and text[1] == ":") or ".." in path.parts or "\x00" in text:
        raise FileProblem(f"the zip holds a member with an unsafe path ({name[:100]!r}): refused", field="file")
    return path


def wanted_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The members to extract (no directories, no macOS resource forks), each checked against the limits
    from the zip's own directory: nothing is written when the directory already shows a bomb."""
    max_bytes, max_members, max_ratio, ratio_from = _limits()
    infos = zf.infolist()
    if len(infos) > max_members:
        raise FileProblem(f"the zip holds {len(infos)} members; at most {max_members} are accepted", field="file")
    members = []
    total = compressed = 0
    for info in infos:
        if info.is_dir() or "__MACOSX" in info.filename:
            continue
        _safe_name(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise FileProblem(f"the zip holds a symbolic link ({info.filename[:100]!r}): refused", field="file")
        if info.file_size > ratio_from and info.file_size > max_ratio * max(info.compress_size, 1):
            raise FileProblem(
                f"the zip member {info.filename[:100]!r} expands {info.file_size / max(info.compress_size, 1):,.0f}"
                f" times (at most {max_ratio:,.0f} accepted): refused as a zip bomb",
                field="file",
            )
        total += info.file_size
        compressed += info.compress_size
        members.append(info)
    if total > max_bytes:
        raise FileProblem(f"the zip expands to {_mib(total)}; at most {_mib(max_bytes)} are accepted", field="file")
    if total > ratio_from and total > max_ratio * max(compressed, 1):
        raise FileProblem(
            f"the zip expands {total / max(compressed, 1):,.0f} times (at most {max_ratio:,.0f} accepted): "
            "refused as a zip bomb",
            field="file",
        )
    return members


def extract(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], target: Path) -> None:
    """Writes the members under target, counting bytes: a member that yields more than its directory
    entry said, or a total past the limit, stops the extraction (the caller removes target)."""
    max_bytes = settings.GRIDCITY_IMPORT_MAX_UNZIPPED_BYTES
    root = target.resolve()
    written = 0
    for info in members:
        dest = (root / _safe_name(info.filename)).resolve()
        if root not in dest.parents:
            raise FileProblem(
                f"the zip holds a member with an unsafe path ({info.filename[:100]!r}): refused", field="file"
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        own = 0
        with zf.open(info) as src, open(dest, "wb") as out:
            while True:
                chunk = src.read(_CHUNK)
                if not chunk:
                    break
                own += len(chunk)
                written += len(chunk)
                if own > info.file_size:
                    raise FileProblem(
                        f"the zip member {info.filename[:100]!r} holds more than its directory states: "
                        "refused as a zip bomb",
                        field="file",
                    )
                if written > max_bytes:
                    raise FileProblem(f"the zip expands to more than {_mib(max_bytes)}: refused", field="file")
                out.write(chunk)
