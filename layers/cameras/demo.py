"""Demo cameras: about 300, at the corners of base grids (where streets cross in the demo city),
each looking along one of the streets with a plausible lens and range; a fifth are domes, a few
offline or faulty. Written through the service like any other camera. Refused in production."""

import random

from django.db import connection

from . import services
from .models import Camera


class DemoRefused(Exception):
    pass


def load(count: int = 300, seed: int = 1, if_empty: bool = False) -> dict:
    from components.auth import is_production

    if is_production():
        raise DemoRefused("demo cameras are refused in production (GRIDCITY_ENV=production)")
    if if_empty and Camera.objects.exists():
        return {"skipped": True, "created": 0}
    with connection.cursor() as cur:
        # Distinct grid corners, snapped to ~1 m so neighbouring grids' shared corners count once.
        cur.execute(
            """
            SELECT DISTINCT ST_X(p), ST_Y(p) FROM (
                SELECT ST_SnapToGrid((ST_DumpPoints(ST_Envelope(geom))).geom, 0.00001) AS p
                FROM layers_grid WHERE level_id = 4
            ) c ORDER BY 1, 2
            """
        )
        corners = cur.fetchall()
    if not corners:
        raise DemoRefused("no base grids (level 4): load the demo city first (manage.py load_demo_city)")
    rng = random.Random(seed)
    picked = rng.sample(corners, min(count, len(corners)))
    created = 0
    for n, (lon, lat) in enumerate(picked, start=1):
        dome = rng.random() < 0.2
        values = {
            "device_id": f"37081200081{'31' if n % 7 == 0 else '32'}1{n:06d}",
            "name": f"路口监控{n:03d}",
            "lon": lon + rng.uniform(-0.00003, 0.00003),
            "lat": lat + rng.uniform(-0.00003, 0.00003),
            "mount_height": rng.choice([4.5, 6, 8, 10]),
            "azimuth": (rng.choice([0, 90, 180, 270]) + rng.uniform(-15, 15)) % 360,
            "h_fov": rng.choice([45, 60, 75, 90]),
            "v_fov": rng.choice([30, 40, 50]),
            "range_m": rng.choice([60, 80, 100, 150, 200]),
            "ptz": "dome" if dome else "fixed",
            "state": rng.choices(["online", "offline", "fault"], weights=[90, 7, 3])[0],
            "stream_url": f"rtsp://10.37.8.{n % 250 + 1}/live/{n}",
        }
        if services.Camera.objects.filter(device_id=values["device_id"]).exists():
            continue
        try:
            services.create(None, values)
        except services.ServiceError:
            continue  # a corner outside the district box: no camera there
        created += 1
    return {"skipped": False, "created": created}
