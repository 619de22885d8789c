"""Import a GB/T 28181 catalogue (目录) exported as CSV, XLSX or GeoPackage: one camera per row,
created or updated by DeviceID through the service, each row on its own (a bad row is reported and
skipped, the others are written). Columns: DeviceID, Name, Longitude, Latitude required (in a
GeoPackage the point geometry may stand for Longitude/Latitude); optional PTZType (GB/T 28181:
1 球机, 2 半球, 3 固定枪机, 4 遥控枪机), Status (ON/OFF), DirectionType (2022 edition: 1 东 2 西 3 南
4 北 5 东南 6 东北 7 西南 8 西北) or a local Azimuth column, HFov, VFov, Range, Height, StreamURL, and
our own export's PTZ (fixed/dome/pan_range), PanMin, PanMax and State (online/offline/fault), which
win over PTZType and Status when present, and lens data FocalLength (mm), SensorWidth (mm) and
ImageWidth (pixels), from which the angle and range follow, so an export imports back unchanged."""

import csv
import math
import numbers
from pathlib import Path

from gis_core.errors import ServiceError

from . import services
from .models import Camera, Ptz, State

PTZ_TYPES = {"1": Ptz.DOME, "2": Ptz.DOME, "3": Ptz.FIXED, "4": Ptz.FIXED}
DIRECTIONS = {"1": 90, "2": 270, "3": 180, "4": 0, "5": 135, "6": 45, "7": 225, "8": 315}
STATUS = {"ON": State.ONLINE, "OFF": State.OFFLINE}
DEFAULT_H_FOV, DEFAULT_RANGE_M = 60.0, 100.0
REQUIRED = ("DeviceID", "Name", "Longitude", "Latitude")
MAX_ROWS = 50_000
FORMATS = ("csv", "xlsx", "gpkg")


def _values(row: dict) -> dict:
    get = lambda name: (row.get(name) or "").strip()  # noqa: E731
    values = {
        "device_id": get("DeviceID"),
        "name": get("Name"),
        "lon": get("Longitude"),
        "lat": get("Latitude"),
        "h_fov": get("HFov") or DEFAULT_H_FOV,
        "range_m": get("Range") or DEFAULT_RANGE_M,
        "ptz": get("PTZ") or PTZ_TYPES.get(get("PTZType"), Ptz.FIXED),
        "state": get("State") or STATUS.get(get("Status").upper(), State.ONLINE),
    }
    if get("Azimuth"):
        values["azimuth"] = get("Azimuth")
    elif get("DirectionType"):
        if get("DirectionType") not in DIRECTIONS:
            raise ServiceError({"DirectionType": f"须为 1-8, 收到 {get('DirectionType')!r}"})
        values["azimuth"] = DIRECTIONS[get("DirectionType")]
    else:
        values["azimuth"] = 0
    lens = (("FocalLength", "focal_mm"), ("SensorWidth", "sensor_width_mm"), ("ImageWidth", "image_width_px"))
    if any(get(column) for column, _ in lens):
        # The lens gives the angle and the range; a catalogue's own HFov/Range are checked against them.
        values.update({field: get(column) for column, field in lens})
        for column, field in (("HFov", "h_fov"), ("Range", "range_m")):
            if get(column):
                values[field] = get(column)
            else:
                values.pop(field)
    for column, field in (("Height", "mount_height"), ("VFov", "v_fov"), ("StreamURL", "stream_url")):
        if get(column):
            values[field] = get(column)
    if values["ptz"] == Ptz.PAN_RANGE:
        values["pan_min"], values["pan_max"] = get("PanMin"), get("PanMax")
    return values


def import_rows(user, columns, rows) -> dict:
    """rows: (line, {column: text}) pairs. -> {created, updated, refused, rows: [{line, device_id,
    result, field?, message?}]}. ServiceError({"file": ...}) when a required column is missing."""
    missing = [c for c in REQUIRED if c not in (columns or [])]
    if missing:
        raise ServiceError({"file": f"缺少列 {', '.join(missing)}"})
    report = {"created": 0, "updated": 0, "refused": 0, "rows": []}
    for n, (line, row) in enumerate(rows):
        if n >= MAX_ROWS:
            raise ServiceError({"file": f"最多 {MAX_ROWS} 行; 请分批导入 (已处理前 {MAX_ROWS} 行)"})
        device_id = (row.get("DeviceID") or "").strip()
        try:
            if row.get("_problem"):
                raise ServiceError(row["_problem"])
            values = _values(row)
            camera = Camera.objects.filter(device_id=device_id).first()
            if camera is None:
                services.create(user, values, action="import")
                result = "created"
            else:
                if not row.get("PTZ"):
                    values.pop("ptz")  # a plain catalogue knows no pan range: keep what an editor set
                services.update(user, camera, values, action="import")
                result = "updated"
        except ServiceError as exc:
            report["refused"] += 1
            field, message = next(iter(exc.errors.items()))
            report["rows"].append(
                {"line": line, "device_id": device_id, "result": "refused", "field": field, "message": message}
            )
            continue
        report[result] += 1
        report["rows"].append({"line": line, "device_id": device_id, "result": result})
    return report


def import_csv(user, lines) -> dict:
    reader = csv.DictReader(lines)
    return import_rows(user, reader.fieldnames, ((line, row) for line, row in enumerate(reader, start=2)))


def _cell(column: str, value) -> tuple[str, dict | None]:
    """A spreadsheet cell as text. A DeviceID typed as a number has lost digits (Excel keeps 15)."""
    if value is None:
        return "", None
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, numbers.Real):  # also numpy's numbers, as pyogrio gives them
        value = float(value) if not isinstance(value, numbers.Integral) else int(value)
        if isinstance(value, float) and math.isnan(value):
            return "", None  # a GeoPackage's empty number
        if column == "DeviceID":
            return str(value), {"DeviceID": "须为文本单元格: 表格把 20 位编码存成了数字, 后几位已丢失"}
        if isinstance(value, float) and value.is_integer():
            return str(int(value)), None
        return repr(value), None
    return str(value), None


def read_xlsx(path) -> tuple[list[str], list]:
    """The first sheet: a header row, then one camera per row (line = the sheet's row number)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not XLSX
        raise ServiceError({"file": f"不是有效的 XLSX 文件 ({type(exc).__name__})"}) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    columns = [str(h).strip() if h is not None else "" for h in header]
    out = []
    for line, values in enumerate(rows, start=2):
        if values is None or all(v is None or v == "" for v in values):
            continue
        row, problem = {}, None
        for column, value in zip(columns, values, strict=False):
            text, why = _cell(column, value)
            row[column] = text
            problem = problem or why
        if problem:
            row["_problem"] = problem
        out.append((line, row))
        if len(out) > MAX_ROWS:
            break
    book.close()
    return columns, out


def read_gpkg(path, layer=None) -> tuple[list[str], list]:
    """The first layer of points (line = feature number from 1). Longitude/Latitude come from the
    geometry, in EPSG:4490, when the table has no such columns; another CRS is transformed."""
    import pyogrio
    import shapely
    from pyproj import CRS, Transformer

    try:
        meta, _fids, geometry, data = pyogrio.raw.read(str(path), layer=layer, max_features=MAX_ROWS + 1)
    except Exception as exc:  # noqa: BLE001 - GDAL's errors for a file that is not a GeoPackage
        raise ServiceError({"file": f"不是可读的 GeoPackage ({type(exc).__name__})"}) from None
    columns = [str(c) for c in meta["fields"]]
    points = shapely.from_wkb(geometry) if geometry is not None else None
    transform = None
    if meta.get("crs") and CRS.from_user_input(meta["crs"]).to_epsg() not in (4490, 4326):
        transform = Transformer.from_crs(meta["crs"], "EPSG:4490", always_xy=True)
    out = []
    for i in range(len(data[0]) if data else 0):
        row = {c: _cell(c, data[k][i])[0] for k, c in enumerate(columns)}
        if "Longitude" not in columns and points is not None:
            p = points[i]
            if p is None or p.is_empty or p.geom_type != "Point":
                row["_problem"] = {"geometry": "须为点 (Point)"}
            else:
                x, y = transform.transform(p.x, p.y) if transform else (p.x, p.y)
                row["Longitude"], row["Latitude"] = repr(x), repr(y)
        out.append((i + 1, row))
    if points is not None and "Longitude" not in columns:
        columns += ["Longitude", "Latitude"]
    return columns, out


def import_file(user, path, fmt: str | None = None, encoding: str = "utf-8-sig") -> dict:
    path = Path(path)
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt == "csv":
        try:
            with open(path, encoding=encoding, newline="") as f:
                return import_csv(user, f)
        except UnicodeDecodeError:
            raise ServiceError({"encoding": f"文件不是 {encoding} 编码; GBK 导出请指定 gbk"}) from None
    if fmt == "xlsx":
        return import_rows(user, *read_xlsx(path))
    if fmt == "gpkg":
        return import_rows(user, *read_gpkg(path))
    raise ServiceError({"format": f"须为 {', '.join(FORMATS)} 之一, 收到 {fmt!r}"})


# ---- export ----------------------------------------------------------------------------------------

PTZ_TYPE_OUT = {Ptz.DOME: "1", Ptz.FIXED: "3", Ptz.PAN_RANGE: "4"}


def export_rows(queryset, with_stream: bool) -> tuple[list[str], list[list]]:
    """The catalogue columns an import reads back, GB/T names first, then our own."""
    columns = [
        "DeviceID", "Name", "Longitude", "Latitude", "PTZType", "Status", "Azimuth", "HFov", "VFov", "Range",
        "Height", "PTZ", "PanMin", "PanMax", "State", "GridCode", "Owner", "Maintainer",
        "FocalLength", "SensorWidth", "ImageWidth",
    ]  # fmt: skip
    if with_stream:
        columns.append("StreamURL")
    rows = []
    for c in queryset.select_related("owner", "maintainer").order_by("device_id").iterator(chunk_size=2000):
        row = [
            c.device_id, c.name, c.geom.x, c.geom.y, PTZ_TYPE_OUT[c.ptz], "ON" if c.state == State.ONLINE else "OFF",
            c.azimuth, c.h_fov, c.v_fov, c.range_m, c.mount_height, c.ptz, c.pan_min, c.pan_max, c.state,
            c.grid_code, c.owner.uscc if c.owner else "", c.maintainer.uscc if c.maintainer else "",
            c.focal_mm, c.sensor_width_mm, c.image_width_px,
        ]  # fmt: skip
        if with_stream:
            row.append(c.stream_url)
        rows.append(row)
    return columns, rows


def export_file(queryset, fmt: str, path, with_stream: bool) -> int:
    """Writes the cameras to `path` as csv, xlsx or gpkg (layer `cameras`, points in EPSG:4490)."""
    if fmt not in FORMATS:
        raise ServiceError({"format": f"须为 {', '.join(FORMATS)} 之一, 收到 {fmt!r}"})
    columns, rows = export_rows(queryset, with_stream)
    path = Path(path)
    blank = lambda v: "" if v is None else v  # noqa: E731
    if fmt == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(columns)
            w.writerows([[blank(v) for v in r] for r in rows])
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("cameras")
        sheet.append(columns)
        for r in rows:
            sheet.append([str(v) if k == 0 else blank(v) for k, v in enumerate(r)])  # DeviceID as text
        book.save(path)
    else:
        _write_gpkg(path, columns, rows)
    return len(rows)


def _write_gpkg(path: Path, columns, rows) -> None:
    import numpy as np
    import pyogrio
    import shapely

    path.unlink(missing_ok=True)
    geometry = shapely.to_wkb(shapely.points([(r[2], r[3]) for r in rows])) if rows else np.array([], dtype=object)
    data = []
    for k in range(len(columns)):
        values = [r[k] for r in rows]
        if all(isinstance(v, float | int) or v is None for v in values) and k not in (0, 4):
            data.append(np.array([math.nan if v is None else float(v) for v in values], dtype="float64"))
        else:
            data.append(np.array(["" if v is None else str(v) for v in values], dtype=object))
    pyogrio.raw.write(
        str(path),
        geometry=geometry,
        field_data=data,
        fields=columns,
        crs="EPSG:4490",
        geometry_type="Point",
        driver="GPKG",
        layer="cameras",
    )
