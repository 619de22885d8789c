"""What an import produces and reports: row errors, the result, and the validated columns the
set-based writer (components.services.bulk) stores. Shared by the importer and the writer, so
neither has to import the other for them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(slots=True)
class RowError:
    row: int | None
    field: str | None
    reason: str

    def as_dict(self):
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0  # components not in the file, removed by a replacement (mode "replace")
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    encoding: str | None = None
    crs: str | None = None
    mode: str | None = None  # how it was written: "initial" (fresh table swapped in) or "upsert"

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self, max_errors: int | None = None) -> dict:
        errors = self.errors if max_errors is None else self.errors[:max_errors]
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "error_count": len(self.errors),
            "errors": [e.as_dict() for e in errors],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "encoding": self.encoding,
            "crs": self.crs,
            "mode": self.mode,
        }


class ImportFailed(Exception):
    """Raised only by callers that want an exception (e.g. the management command with --strict)."""

    def __init__(self, result: ImportResult):
        self.result = result
        first = result.errors[0] if result.errors else None
        super().__init__(f"row {first.row}, {first.field}: {first.reason}" if first else "import failed")


@dataclass
class Prepared:
    """Validated, storage-ready columns. `present` lists the native fields the file carries."""

    n: int
    present: set
    code: np.ndarray  # str, '' where a new ID is to be allocated
    class_id: np.ndarray  # int64
    class_code: np.ndarray  # str
    admin_code: np.ndarray  # str
    geom_hex: object  # Arrow string array: hex WKB in SRID 4490 (no SRID inside: the geometry(…, 4490) staging column adds it)
    bbox: tuple | None
    values: dict  # native field -> list of storage values (None = NULL / keep)
    serial_max: dict = field(default_factory=dict)  # {(admin code, class pk): highest serial given in the file}
    spatial_order: np.ndarray | None = None  # row indexes along a Z-order curve of the bbox centres
