"""Ingest of external detections: line checks, tracks, batches, idempotency, evidence, de-duplication quality."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories.detection_stream import make_stream
from sqlalchemy import Engine, func, select

from service.db import session_factory
from service.db.models import Candidate, Evidence, Sighting
from service.violations.detection_lines import LineError, parse_line
from service.violations.ingest import Ingest, IngestReport, LineProblem
from service.violations.observation import Observation
from service.violations.recorder import Recorder
from service.violations.verdicts import ClassVerdict, VerdictLike, taxonomy_judge
from vision.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
CLASSES = TAXONOMY.class_names
TIME = "2026-05-01T20:31:07+08:00"


def detection(**changes: Any) -> str:
    """One JSON line; ``changes`` replace fields (a value of ``...`` removes the field)."""
    fields: dict[str, Any] = {
        "source": "city-ai-7",
        "camera": "cam-012",
        "time": TIME,
        "lat": 30.2741,
        "lon": 120.1551,
        "class": "vendor_stall",
        "confidence": 0.8,
        "box": [10, 20, 200, 240],
        "track_id": None,
        "image": None,
    }
    fields.update(changes)
    return json.dumps({key: value for key, value in fields.items() if value is not ...})


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        ("{not json", "line", "not valid JSON"),
        ("[1, 2]", "line", "expected a JSON object, got list"),
        (detection(source=...), "source", "missing"),
        (detection(source=""), "source", "non-empty string"),
        (detection(time="2026-05-01T20:31:07"), "time", "no time zone"),
        (detection(time="yesterday"), "time", "not an ISO-8601 time"),
        (detection(lat=91), "lat", "outside [-90, 90]"),
        (detection(lat="30.1"), "lat", "expected a number"),
        (detection(lon=True), "lon", "expected a number"),
        (detection(lon=...), "lon", "missing"),
        (detection(lon=...)[:-1] + ', "lon": NaN}', "lon", "expected a number"),  # Python's json reads NaN
        (detection(confidence=1.5), "confidence", "outside [0, 1]"),
        (detection(**{"class": "tank"}), "class", "'tank' is not a known class"),
        (detection(box=[1, 2, 3]), "box", "expected [x1, y1, x2, y2]"),
        (detection(box=[10, 20, 5, 40]), "box", "x2 < x1"),
        (detection(track_id={"id": 1}), "track_id", "string or an integer"),
        (detection(track_id="x" * 121), "track_id", "longer than 120"),
        (detection(camera=7), "camera", "non-empty string"),
    ],
)
def test_bad_lines_name_the_line_and_the_field(line: str, field: str, reason: str) -> None:
    with pytest.raises(LineError) as caught:
        parse_line(line, line_number=12, known_classes=CLASSES, base_dir=Path("."))
    assert caught.value.line_number == 12
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"line 12: {field}: ")


def test_a_good_line(tmp_path: Path) -> None:
    line = detection(time="2026-05-01T12:31:07Z", track_id=4711, image="frames/a.jpg")
    parsed = parse_line(line, line_number=1, known_classes=CLASSES, base_dir=tmp_path)
    assert parsed.time == datetime(2026, 5, 1, 12, 31, 7, tzinfo=UTC)
    assert parsed.track_id == "4711"
    assert parsed.image == tmp_path / "frames" / "a.jpg"
    assert parsed.box == (10.0, 20.0, 200.0, 240.0)
    # The key comes from the content alone: the same line in another file or position is the same detection.
    assert parsed.line_key == parse_line(line + "\n", line_number=9, known_classes=CLASSES, base_dir=Path("/")).line_key
    assert parsed.line_key != parse_line(detection(), line_number=1, known_classes=CLASSES, base_dir=tmp_path).line_key


def run_ingest(
    engine: Engine, lines: Iterable[str], *, base_dir: Path = Path("."), batch_size: int = 500, judge: Any = None
) -> tuple[IngestReport, list[LineProblem]]:
    problems: list[LineProblem] = []
    job = Ingest(
        Recorder(),
        judge or taxonomy_judge(TAXONOMY),
        known_classes=CLASSES,
        batch_size=batch_size,
        on_problem=problems.append,
    )
    return job.run(lines, session_factory(engine), base_dir=base_dir), problems


def count(engine: Engine, table: type) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_bad_lines_are_reported_by_number_and_the_rest_go_in(engine: Engine) -> None:
    lines = [
        detection(),
        "{oops",
        "",
        detection(time="2026-05-01 20:31:07"),
        detection(lat=30.2800, time="2026-05-01T20:32:00+08:00"),
    ]
    report, problems = run_ingest(engine, lines)
    assert [(p.line_number, p.skipped) for p in problems] == [(2, True), (4, True)]
    assert "time" in problems[1].message
    assert (report.lines, report.bad, report.observations, report.sightings, report.opened) == (4, 2, 2, 2, 2)
    assert count(engine, Candidate) == 2


def test_detections_of_one_track_are_one_observation(engine: Engine) -> None:
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    lines = [
        detection(track_id="7", time=(start + timedelta(seconds=s)).isoformat(), confidence=c, lat=30.2741 + s * 1e-6)
        for s, c in [(0, 0.5), (2, 0.9), (1, 0.7)]
    ]
    lines.append(detection(track_id="7", source="other-system", time=start.isoformat()))
    lines.append(detection(track_id="7", time=(start + timedelta(seconds=3)).isoformat(), **{"class": "banner"}))
    report, _ = run_ingest(engine, lines)
    assert (report.observations, report.sightings) == (2, 2)
    with session_factory(engine)() as session:
        track = session.scalars(select(Sighting).where(Sighting.source == "city-ai-7")).one()
    assert track.track_key == "track:7"
    assert track.frames_seen == 4
    assert (track.first_seen, track.last_seen) == (start, start + timedelta(seconds=3))
    assert track.score == pytest.approx((0.5 + 0.9 + 0.7 + 0.8) / 4)
    assert track.class_name == "vendor_stall"  # the most frequent class of the track
    assert track.lat == pytest.approx(30.2741 + (0 + 2e-6 + 1e-6 + 0) / 4, abs=1e-9)


def _state(engine: Engine) -> tuple[int, int, list[int]]:
    with session_factory(engine)() as session:
        counts = session.scalars(select(Candidate.sightings_count).order_by(Candidate.id)).all()
    return count(engine, Sighting), count(engine, Candidate), list(counts)


def test_ingesting_a_file_again_adds_nothing(engine: Engine) -> None:
    lines = [*make_stream(10, 6, seed=1), detection(track_id="t1"), detection(track_id="t1", lat=30.27411)]
    first, _ = run_ingest(engine, lines, batch_size=16)
    before = _state(engine)
    again, _ = run_ingest(engine, lines, batch_size=16)
    assert _state(engine) == before
    assert (again.sightings, again.opened, again.attached, again.duplicates) == (0, 0, 0, first.observations)


class Crash(RuntimeError):
    """Stands for the process dying mid-file."""


def _dying_after(lines: list[str], count: int) -> Iterator[str]:
    for number, line in enumerate(lines):
        if number == count:
            raise Crash
        yield line


def test_a_crash_keeps_committed_batches_and_a_rerun_completes_without_doubles(engine: Engine, tmp_path: Path) -> None:
    lines = make_stream(12, 10, seed=2)
    with pytest.raises(Crash):
        run_ingest(engine, _dying_after(lines, 70), batch_size=25)
    assert count(engine, Sighting) == 50  # two batches of 25 committed; the one in flight is lost
    run_ingest(engine, lines, batch_size=25)
    resumed = _state(engine)
    assert resumed[0] == len(lines)
    assert sum(resumed[2]) == len(lines)


def test_images_become_evidence_and_missing_ones_are_warnings(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "a.jpg").write_bytes(b"jpeg bytes")
    lines = [detection(image="frames/a.jpg"), detection(image="frames/gone.jpg", lat=30.29)]
    report, problems = run_ingest(engine, lines, base_dir=tmp_path)
    assert (report.bad, report.missing_images, report.sightings) == (0, 1, 2)
    assert [(p.line_number, p.skipped) for p in problems] == [(2, False)]
    assert "gone.jpg" in problems[0].message
    with session_factory(engine)() as session:
        (evidence,) = session.scalars(select(Evidence)).all()
    assert evidence.kind == "frame"
    assert evidence.path == str(tmp_path / "frames" / "a.jpg")
    assert evidence.sha256 == hashlib.sha256(b"jpeg bytes").hexdigest()
    assert evidence.taken_at == datetime.fromisoformat(TIME)


def test_the_judge_decides_what_is_dropped(engine: Engine) -> None:
    def no_banners(observation: Observation) -> VerdictLike:
        if observation.class_name == "banner":
            return ClassVerdict(False, "banners are allowed here", None, None)
        return taxonomy_judge(TAXONOMY)(observation)

    lines = [detection(), detection(lat=30.29, **{"class": "banner"})]
    report, _ = run_ingest(engine, lines, judge=no_banners)
    assert (report.sightings, report.opened, report.dropped) == (2, 1, 1)


def test_objects_seen_many_times_with_gps_noise_become_one_candidate_each(engine: Engine) -> None:
    # The acceptance run is 1 000 objects x 50 (benchmarks/ingest.py); a smaller one here.
    objects = 100
    report, problems = run_ingest(engine, make_stream(objects, 20, noise_m=10.0, seed=7))
    assert problems == []
    assert report.observations == objects * 20
    assert objects <= report.opened <= objects * 1.05
    assert report.opened + report.attached == objects * 20
