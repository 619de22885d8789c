"""GB/T 28181 20-digit device IDs: 8-digit centre code (6-digit admin code + 2-digit grassroots
unit), 2-digit industry, 3-digit type, 1 network digit, 6-digit serial. Only 131 (camera) and 132
(IP camera) are cameras; 111-118 are recorders/encoders (118 NVR) and 2xx are platforms."""

import re

from django.conf import settings

CAMERA_TYPES = {"131": "摄像机", "132": "网络摄像机"}
INDUSTRY_CITY_MANAGEMENT = "08"
_DIGITS = re.compile(r"^[0-9]{20}$")


def problem(device_id: str) -> str | None:
    """Why `device_id` is no camera of this district, or None when it is one."""
    if not isinstance(device_id, str) or not _DIGITS.match(device_id):
        return "国标编码须为20位数字 (GB/T 28181 device ID: 20 digits)"
    admin = settings.GRIDCITY_ADMIN_CODE
    if device_id[:6] != admin:
        return f"中心编码前6位 {device_id[:6]} 不是本区行政区划代码 {admin}"
    kind = device_id[10:13]
    if kind not in CAMERA_TYPES:
        if kind == "118":
            what = "网络硬盘录像机(NVR)"
        elif kind.startswith("2"):
            what = "平台设备"
        else:
            what = "非摄像机设备"
        return f"类型码 {kind} 是{what}, 摄像机须为 131 或 132"
    return None


def parts(device_id: str) -> dict:
    return {
        "centre": device_id[:8],
        "industry": device_id[8:10],
        "type": device_id[10:13],
        "network": device_id[13],
        "serial": device_id[14:],
    }
