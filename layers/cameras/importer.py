"""Import a GB/T 28181 catalogue (目录) exported as CSV: one camera per row, created or updated by
DeviceID through the service, each row on its own (a bad row is reported and skipped, the others
are written). Columns: DeviceID, Name, Longitude, Latitude required; optional PTZType (GB/T 28181:
1 球机, 2 半球, 3 固定枪机, 4 遥控枪机), Status (ON/OFF), DirectionType (2022 edition: 1 东 2 西 3 南
4 北 5 东南 6 东北 7 西南 8 西北) or a local Azimuth column, HFov, Range, Height, StreamURL."""

import csv

from gis_core.errors import ServiceError

from . import services
from .models import Camera, Ptz, State

PTZ_TYPES = {"1": Ptz.DOME, "2": Ptz.DOME, "3": Ptz.FIXED, "4": Ptz.FIXED}
DIRECTIONS = {"1": 90, "2": 270, "3": 180, "4": 0, "5": 135, "6": 45, "7": 225, "8": 315}
STATUS = {"ON": State.ONLINE, "OFF": State.OFFLINE}
DEFAULT_H_FOV, DEFAULT_RANGE_M = 60.0, 100.0
REQUIRED = ("DeviceID", "Name", "Longitude", "Latitude")


def _values(row: dict) -> dict:
    get = lambda name: (row.get(name) or "").strip()  # noqa: E731
    values = {
        "device_id": get("DeviceID"),
        "name": get("Name"),
        "lon": get("Longitude"),
        "lat": get("Latitude"),
        "h_fov": get("HFov") or DEFAULT_H_FOV,
        "range_m": get("Range") or DEFAULT_RANGE_M,
        "ptz": PTZ_TYPES.get(get("PTZType"), Ptz.FIXED),
        "state": STATUS.get(get("Status").upper(), State.ONLINE),
    }
    if get("Azimuth"):
        values["azimuth"] = get("Azimuth")
    elif get("DirectionType"):
        if get("DirectionType") not in DIRECTIONS:
            raise ServiceError({"DirectionType": f"须为 1-8, 收到 {get('DirectionType')!r}"})
        values["azimuth"] = DIRECTIONS[get("DirectionType")]
    else:
        values["azimuth"] = 0
    if get("Height"):
        values["mount_height"] = get("Height")
    if get("StreamURL"):
        values["stream_url"] = get("StreamURL")
    return values


def import_csv(user, lines) -> dict:
    """-> {created, updated, refused, rows: [{line, device_id, result, field?, message?}]}"""
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ServiceError({"file": f"缺少列 {', '.join(missing)}"})
    report = {"created": 0, "updated": 0, "refused": 0, "rows": []}
    for line, row in enumerate(reader, start=2):
        device_id = (row.get("DeviceID") or "").strip()
        try:
            values = _values(row)
            camera = Camera.objects.filter(device_id=device_id).first()
            if camera is None:
                services.create(user, values)
                result = "created"
            else:
                values.pop("ptz")  # a catalogue knows no pan range: keep what an editor set
                services.update(user, camera, values)
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
