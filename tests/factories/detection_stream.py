"""Synthetic external detection streams (JSON lines) of objects seen many times with GPS noise."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

from service.geo import METRES_PER_DEGREE

ORIGIN = (30.2741, 120.1551)  # Hangzhou
START = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
VIOLATION_CLASSES = ("vendor_stall", "goods_outside_shop", "material_pile", "banner", "poster", "ad_board", "shed")
SPACING_M = 150.0
JITTER_M = 20.0  # neighbours stay at least SPACING_M - 2 * JITTER_M = 110 m apart


def make_stream(
    objects: int, per_object: int, *, noise_m: float = 10.0, hours: float = 4.0, seed: int = 0
) -> list[str]:
    """JSON lines for ``objects`` objects, each seen ``per_object`` times, sorted by time.

    Objects lie on a jittered grid (distinct objects more than 100 m apart), each of a random violation class.
    Each detection comes from one of four patrol sources at a random time within ``hours``, with Gaussian GPS
    noise of ``noise_m`` per axis, and no track id.
    """
    rng = random.Random(seed)
    side = math.ceil(math.sqrt(objects))
    records = []
    for index in range(objects):
        north = (index // side) * SPACING_M + rng.uniform(-JITTER_M, JITTER_M)
        east = (index % side) * SPACING_M + rng.uniform(-JITTER_M, JITTER_M)
        class_name = rng.choice(VIOLATION_CLASSES)
        for _ in range(per_object):
            lat = ORIGIN[0] + (north + rng.gauss(0.0, noise_m)) / METRES_PER_DEGREE
            lon = ORIGIN[1] + (east + rng.gauss(0.0, noise_m)) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
            seen = START + timedelta(seconds=rng.uniform(0.0, hours * 3600.0))
            records.append(
                {
                    "source": f"patrol-{rng.randrange(4)}",
                    "camera": None,
                    "time": seen.isoformat(timespec="milliseconds"),
                    "lat": round(lat, 7),
                    "lon": round(lon, 7),
                    "class": class_name,
                    "confidence": round(rng.uniform(0.3, 0.95), 3),
                    "box": [100, 120, 260, 300],
                    "track_id": None,
                    "image": None,
                }
            )
    records.sort(key=lambda record: str(record["time"]))
    return [json.dumps(record) for record in records]
