"""``xiuhua scan``: the report, resuming a finished job, fixed cameras and photos, failures and bad options."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from factories.database import created_engine
from factories.detectors import BrightnessDetector
from factories.media import make_photo, make_video
from factories.scans import scan_args, scan_result
from typer.testing import CliRunner

import service.cli.main as main
from service.cameras.queries import create_camera, find_camera
from service.db import session_factory
from service.pipeline.source import ModelDetector
from service.references import ReferenceStore, add_reference
from service.scan import ScanOptions, ScanRequest, run_scan

from .conftest import FirstScan

runner = CliRunner()
START = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)
BRIGHT = (200, 200, 200)


def test_the_report_lists_every_candidate_with_its_crop(first_scan: FirstScan) -> None:
    report = first_scan.workdir / "report"
    candidates = first_scan.result.candidates
    assert len(candidates) > 10
    with (report / "candidates.csv").open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert sorted(int(row["id"]) for row in rows) == [row[0] for row in candidates]
    assert all(row["crop"] and row["sources"].endswith(".mp4") for row in rows)
    features = json.loads((report / "candidates.geojson").read_text())["features"]
    assert len(features) == len(candidates)
    assert features[0]["geometry"]["type"] == "Point" and features[0]["properties"]["sources"]
    page = (report / "index.html").read_text()
    assert page.count('<img src="thumbs/') == len(candidates)
    assert len(list((report / "thumbs").glob("*.jpg"))) == len(candidates)
    assert "GPS track start" in page and "pass_2.mp4" in page
    assert "start times from: GPS track start (2)" in first_scan.output


def test_the_same_command_again_skips_every_finished_source(first_scan: FirstScan, patrol_archive: Path) -> None:
    result = runner.invoke(main.app, scan_args(patrol_archive, first_scan.url, first_scan.workdir))
    assert result.exit_code == 0, result.output
    assert "(resumed): 2 sources, 2 done before; this run 0 sources" in result.output
    assert scan_result(first_scan.url) == first_scan.result


def test_a_broken_file_fails_alone_and_the_exit_code_says_so(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    make_video(archive / "good.mp4", frames=10)
    (archive / "good_frames.jsonl").write_text("")  # the ground truth: nothing in view
    (archive / "broken.mp4").write_bytes(b"\x00" * 100)
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    result = runner.invoke(main.app, [*scan_args(archive, url, tmp_path), str(tmp_path / "missing.mp4"), "--no-gate"])
    assert result.exit_code == 1, result.output
    assert "failed: " in result.output and "broken.mp4" in result.output
    assert "skipped: " in result.output and "no such file or folder" in result.output
    states = scan_result(url).states
    assert {Path(path).name: state for path, state in states.items()} == {"broken.mp4": "failed", "good.mp4": "done"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--start", "2024-06-01 10:00"], "no time zone"),
        (["--kind", "drone"], "kind must be one of"),
        (["--backend", "cluster"], "'local' or 'ray'"),
        (["--camera", "cam-404"], "no camera 'cam-404'"),
    ],
)
def test_bad_options_stop_the_scan_before_it_starts(tmp_path: Path, extra: list[str], message: str) -> None:
    video = make_video(tmp_path / "clip.mp4", frames=3)
    result = runner.invoke(main.app, [*scan_args(video, f"sqlite:///{tmp_path / 's.db'}", tmp_path), *extra])
    assert result.exit_code == 2
    assert message in result.output


def _fixed_camera(url: str, *, reference: bool, data: Path) -> None:
    from service.db import make_engine

    engine = make_engine(url)
    with session_factory(engine)() as session:
        create_camera(session, key="cam-1", kind="fixed", name="pole 1", lat=31.2, lon=121.4)
        if reference:
            stored = ReferenceStore(data / "references").save_reference(
                np.full((48, 64, 3), 200, np.uint8), taken_at=START
            )
            camera = find_camera(session, key="cam-1")
            assert camera is not None
            add_reference(session, camera=camera, image_path=stored.relative_path, sha256=stored.sha256, taken_at=START)
        session.commit()
    engine.dispose()


@pytest.mark.parametrize(
    ("reference", "gop", "sampling"),
    [
        (False, 10, "2 fps + gate"),  # a keyframe every 5 s: too sparse, every frame decoded for 2 fps
        (False, 4, "keyframes (every 2.0 s) + gate"),  # every 2 s: only keyframes are decoded
        (True, 4, "keyframes (every 2.0 s) + gate"),
    ],
)
def test_a_fixed_camera_raises_a_stall_that_stays_unless_its_reference_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: bool, gop: int, sampling: str
) -> None:
    monkeypatch.setenv("XIUHUA_DATA", str(tmp_path))
    video = make_video(tmp_path / "stall.mp4", frames=400, fps=2, gop=gop, colour_bgr=BRIGHT)  # 200 s: past 180 s
    with created_engine("sqlite", tmp_path) as engine:
        url = engine.url.render_as_string(hide_password=False)
        _fixed_camera(url, reference=reference, data=tmp_path)
        options = ScanOptions(camera="cam-1", start=START, detector="model")
        request = ScanRequest(inputs=(str(video),), options=options, database_url=url, report=False)
        model = BrightnessDetector()
        summary = run_scan(request, detector=ModelDetector(model))
        result = scan_result(url)
    (plan,) = summary.plans
    assert (plan.kind, plan.describe_sampling(), plan.location) == ("fixed", sampling, "camera position")
    assert plan.start == START and plan.start_origin == "--start"
    assert sum(model.calls) <= 41 < 100 <= summary.frames  # the gate: unchanged frames were not detected
    assert len(result.sightings) == 1
    if reference:
        assert result.candidates == () and result.sightings[0][2] == "dropped"
    else:
        ((_, kind, name, lat, lon, first, last, sightings, _),) = result.candidates
        assert (kind, name, lat, lon, sightings) == ("street_occupation", "vendor_stall", 31.2, 121.4, 1)
        # First seen in the first frame, though its track is confirmed by the next sampled one.
        assert first == START and (last - first).total_seconds() > 190


def test_a_photo_with_gps_is_one_observation_placed_where_it_was_taken(tmp_path: Path) -> None:
    photo = make_photo(
        tmp_path / "shop.jpg", size=(64, 48), colour_rgb=BRIGHT, taken="2024:06:01 18:30:00", offset="+08:00",
        gps=(31.25, 121.45),
    )  # fmt: skip
    make_photo(tmp_path / "dark.jpg", colour_rgb=(10, 10, 10))
    with created_engine("sqlite", tmp_path) as engine:
        url = engine.url.render_as_string(hide_password=False)
        request = ScanRequest(
            inputs=(str(tmp_path),), database_url=url, evidence_root=str(tmp_path / "evidence"), report=False
        )
        summary = run_scan(request, detector=ModelDetector(BrightnessDetector()))
        result = scan_result(url)
    assert [outcome.state for outcome in summary.outcomes] == ["done", "done"]
    ((_, kind, name, lat, lon, first, _, sightings, score),) = result.candidates
    assert (kind, name, sightings) == ("street_occupation", "vendor_stall", 1)
    assert (lat, lon) == pytest.approx((31.25, 121.45)) and score == pytest.approx(200 / 255, abs=0.01)
    assert first == datetime(2024, 6, 1, 10, 30, tzinfo=UTC)
    assert result.sightings[0][0] == str(photo.resolve())
    assert {kind for _, kind in result.evidence} == {"frame", "crop", "source"}


def test_the_progress_bar_shows_files_video_hours_and_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.cli.scan import _progress_bar
    from service.scan import SourceOutcome

    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    bar = _progress_bar()
    bar.started(files=2, video_seconds=7200.0, done_before=1)
    bar.advanced(250, 3600.0, 3)
    bar.source_finished(SourceOutcome(path="a.mp4", state="done"))
    bar.close()
    text = stream.getvalue()
    assert "(1 done before)" in text and "files 1/2" in text
    assert "50%" in text and "video 1.00/2.00 h, hits 3" in text
