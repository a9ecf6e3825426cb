"""De-duplication cost per recorded sighting with 100 000 open candidates, against plain inserts in the same run.

    .venv/bin/python benchmarks/dedup.py [--candidates 100000] [--records 2000] [--database URL]

A database (a temporary SQLite file unless ``--database`` names an empty one) is filled with ``--candidates``
open candidates spread over a 30 km x 30 km city, of the three violation types. Then ``--records``
observations, half near an existing candidate and half in empty places, are recorded:

- baseline: one plain sighting insert per observation (no search), committed every 100;
- ``record``: ``Recorder.record`` one at a time (search, attach or open, sighting row), committed every 100;
- ``record_many``: the same observations in batches of 500 (how ingest records);
- the same ``record`` run on an empty database (no candidates), and on the full one without the bounding-box
  index (``ix_candidates_type_status_lat_lon``), to show what the index buys.

Prints milliseconds per record and ratios to the baseline.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs standalone, without an installed package

from sqlalchemy import Engine, insert, text

from service.db import Base, make_engine, session_factory
from service.violations.dedup import METRES_PER_DEGREE
from service.violations.observation import Observation
from service.violations.queries import CANDIDATES, SIGHTINGS
from service.violations.recorder import Recorder, Recording
from service.violations.verdicts import ClassVerdict
from vision.frame import GeoPoint

ORIGIN = (30.2741, 120.1551)
CITY_M = 30_000.0
TYPES = {
    "street_occupation": ("vendor_stall", "0501"),
    "illegal_advertising": ("banner", "0202"),
    "illegal_construction": ("shed", "0101"),
}
START = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
COMMIT_EVERY = 100
BATCH = 500


def place(north_m: float, east_m: float) -> tuple[float, float]:
    """Latitude and longitude ``north_m``/``east_m`` metres from the origin."""
    lat = ORIGIN[0] + north_m / METRES_PER_DEGREE
    return lat, ORIGIN[1] + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


def fill(engine: Engine, count: int, rng: random.Random) -> list[tuple[str, float, float]]:
    """Insert ``count`` open candidates; their (type, lat, lon)."""
    placed = []
    rows = []
    for _ in range(count):
        violation_type = rng.choice(list(TYPES))
        lat, lon = place(rng.uniform(0, CITY_M), rng.uniform(0, CITY_M))
        placed.append((violation_type, lat, lon))
        rows.append(
            {
                "violation_type": violation_type,
                "event_code": TYPES[violation_type][1],
                "class_name": TYPES[violation_type][0],
                "status": "open",
                "lat": lat,
                "lon": lon,
                "accuracy_m": 10.0,
                "first_seen": START - timedelta(hours=2),
                "last_seen": START - timedelta(hours=1),
                "sightings_count": 1,
                "score": 0.5,
            }
        )
    with engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(insert(CANDIDATES), rows[start : start + 10_000])
    return placed


def observations(
    count: int, placed: list[tuple[str, float, float]], rng: random.Random
) -> list[tuple[Observation, ClassVerdict]]:
    """Half near existing candidates (a few metres off), half at random places."""
    made = []
    for index in range(count):
        if placed and index % 2 == 0:
            violation_type, lat, lon = rng.choice(placed)
            lat += rng.gauss(0, 5) / METRES_PER_DEGREE
            lon += rng.gauss(0, 5) / METRES_PER_DEGREE
        else:
            violation_type = rng.choice(list(TYPES))
            lat, lon = place(rng.uniform(0, CITY_M), rng.uniform(0, CITY_M))
        seen = START + timedelta(seconds=index)
        class_name, code = TYPES[violation_type]
        observation = Observation(
            "bench", f"t{index}", class_name, seen, seen, 1, 0.7, GeoPoint(lat, lon), box=(0.0, 0.0, 10.0, 10.0)
        )
        made.append((observation, ClassVerdict(True, None, violation_type, code)))
    return made


def plain_inserts(engine: Engine, items: list[tuple[Observation, ClassVerdict]]) -> None:
    with session_factory(engine)() as session:
        for index, (observation, _) in enumerate(items, start=1):
            assert observation.location is not None
            session.execute(
                insert(SIGHTINGS).values(
                    source="baseline",
                    track_key=observation.track_key,
                    class_name=observation.class_name,
                    first_seen=observation.first_seen,
                    last_seen=observation.last_seen,
                    score=observation.score,
                    lat=observation.location.lat,
                    lon=observation.location.lon,
                    status="candidate",
                )
            )
            if index % COMMIT_EVERY == 0:
                session.commit()
        session.commit()


def record_each(engine: Engine, items: list[tuple[Observation, ClassVerdict]]) -> None:
    recorder = Recorder()
    with session_factory(engine)() as session:
        for index, (observation, verdict) in enumerate(items, start=1):
            recorder.record(session, observation, verdict)
            if index % COMMIT_EVERY == 0:
                session.commit()
        session.commit()


def record_batches(engine: Engine, items: list[tuple[Observation, ClassVerdict]]) -> None:
    recorder = Recorder()
    for start in range(0, len(items), BATCH):
        with session_factory(engine)() as session:
            recorder.record_many(session, [Recording(o, v) for o, v in items[start : start + BATCH]])
            session.commit()


def timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def fresh(url: str | None, folder: Path, name: str) -> Engine:
    engine = make_engine(url or f"sqlite:///{folder / name}")
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--database", help="An empty database URL (default: temporary SQLite files).")
    args = parser.parse_args()
    rng = random.Random(0)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        empty = fresh(args.database, folder, "empty.db")
        items = observations(args.records, [], rng)
        results["record, empty database"] = timed(lambda: record_each(empty, items))
        empty.dispose()
        full = fresh(args.database, folder, "full.db")
        placed = fill(full, args.candidates, rng)
        items = observations(args.records, placed, rng)
        results["baseline: plain insert"] = timed(lambda: plain_inserts(full, items))
        results[f"record, {args.candidates} candidates"] = timed(lambda: record_each(full, items))
        batched = [(o.__class__(**{**o.__dict__, "source": "batched"}), v) for o, v in items]
        results[f"record_many, {args.candidates} candidates"] = timed(lambda: record_batches(full, batched))
        with full.begin() as connection:
            connection.execute(text("DROP INDEX ix_candidates_type_status_lat_lon"))
        unindexed = [(o.__class__(**{**o.__dict__, "source": "unindexed"}), v) for o, v in items[:500]]
        seconds = timed(lambda: record_each(full, unindexed))
        results[f"record, {args.candidates} candidates, no bbox index"] = seconds * len(items) / len(unindexed)
        if args.database:
            Base.metadata.drop_all(full)
        full.dispose()
    floor = results["baseline: plain insert"]
    print(f"database: {full.url.get_backend_name()}; {args.records} observations, half near a candidate")
    for name, seconds in results.items():
        print(f"{name:48s} {1000 * seconds / args.records:7.3f} ms/record  {seconds / floor:6.2f}x baseline")


if __name__ == "__main__":
    main()
