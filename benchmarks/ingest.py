"""Ingest throughput and de-duplication quality on a synthetic detection stream.

    .venv/bin/python benchmarks/ingest.py [--objects 1000] [--per-object 50] [--noise-m 10] [--database URL]

The stream: ``--objects`` real objects on a jittered grid (distinct objects more than 100 m apart), each of a
random violation class, seen ``--per-object`` times by one of four patrol sources at random times over four
hours, each detection's position off by Gaussian GPS noise (``--noise-m`` per axis), no track ids, sorted by
time. It goes through ``xiuhua ingest``'s job (parse, judge, record, commit every 500) into a fresh database
(a temporary SQLite file unless ``--database`` names an empty PostgreSQL database).

Baseline, measured in the same run on the same lines and database: parse each line and insert one plain
sighting row, committed every 500: the floor any ingest pays (its rows are deleted before the ingest runs).
Prints detections per second for both, their ratio, and the candidates per real object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

# The repository first (tests/service would shadow the service package), then the tests' factories.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories.detection_stream import make_stream
from sqlalchemy import Engine, delete, func, insert, select

from service.db import Base, make_engine, session_factory
from service.db.models.violations import Candidate, Sighting
from service.violations.detection_lines import parse_line
from service.violations.ingest import Ingest
from service.violations.queries import SIGHTINGS
from service.violations.recorder import Recorder
from service.violations.verdicts import taxonomy_judge
from vision.taxonomy import load_taxonomy


def baseline(engine: Engine, lines: list[str], batch: int = 500) -> float:
    """Seconds to parse every line and insert one plain sighting row each, committing every ``batch``."""
    sessions = session_factory(engine)
    started = time.perf_counter()
    for start in range(0, len(lines), batch):
        with sessions() as session:
            for number, line in enumerate(lines[start : start + batch], start=start):
                raw = json.loads(line)
                seen = datetime.fromisoformat(raw["time"])
                session.execute(
                    insert(SIGHTINGS).values(
                        source=raw["source"],
                        track_key=f"baseline-{number}",
                        class_name=raw["class"],
                        first_seen=seen,
                        last_seen=seen,
                        score=raw["confidence"],
                        lat=raw["lat"],
                        lon=raw["lon"],
                        status="candidate",
                    )
                )
            session.commit()
    return time.perf_counter() - started


def parse_only(lines: list[str]) -> float:
    """Seconds to read and check every line (no database): what the ingest pays before storing anything."""
    classes = load_taxonomy().class_names
    started = time.perf_counter()
    for number, line in enumerate(lines, start=1):
        parse_line(line, line_number=number, known_classes=classes, base_dir=Path.cwd())
    return time.perf_counter() - started


def ingest(engine: Engine, lines: list[str]) -> float:
    """Seconds for the real ingest job on ``lines``."""
    taxonomy = load_taxonomy()
    job = Ingest(Recorder(), taxonomy_judge(taxonomy), known_classes=taxonomy.class_names)
    started = time.perf_counter()
    report = job.run(lines, session_factory(engine), base_dir=Path.cwd())
    elapsed = time.perf_counter() - started
    assert report.bad == 0 and report.observations == len(lines), report
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--per-object", type=int, default=50)
    parser.add_argument("--noise-m", type=float, default=10.0)
    parser.add_argument("--database", help="An empty database URL (default: a temporary SQLite file).")
    args = parser.parse_args()
    lines = make_stream(args.objects, args.per_object, noise_m=args.noise_m)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(args.database or f"sqlite:///{Path(folder) / 'ingest.db'}")
        Base.metadata.create_all(engine)
        floor = baseline(engine, lines)
        parsing = parse_only(lines)
        with session_factory(engine)() as session:
            session.execute(delete(Sighting))
            session.commit()
        elapsed = ingest(engine, lines)
        with session_factory(engine)() as session:
            candidates = session.scalar(select(func.count()).select_from(Candidate)) or 0
            largest = session.scalar(select(func.max(Candidate.sightings_count))) or 0
        if args.database:
            Base.metadata.drop_all(engine)
        engine.dispose()
    print(f"database: {engine.url.get_backend_name()}; {len(lines)} detections of {args.objects} objects,")
    print(f"  GPS noise {args.noise_m:g} m per axis, no track ids")
    print(f"baseline (parse + one plain insert each): {len(lines) / floor:9.0f} detections/s")
    print(f"parse and check lines only (no database): {len(lines) / parsing:9.0f} detections/s")
    print(
        f"ingest (parse, judge, dedup, store):      {len(lines) / elapsed:9.0f} detections/s"
        f"  (takes {elapsed / floor:.2f}x the baseline's time)"
    )
    print(f"candidates: {candidates} for {args.objects} real objects ({candidates / args.objects:.3f} per object);")
    print(f"  most sightings on one candidate: {largest}")


if __name__ == "__main__":
    main()
