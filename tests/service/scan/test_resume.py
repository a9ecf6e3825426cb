"""``kill -9`` in the middle of a scan, then the same command again: the candidates of an uninterrupted scan."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from factories.scans import ScanResult, scan_args, scan_result, start_scan
from typer.testing import CliRunner

import service.cli.main as main
from service.scan.hooks import PAUSE_ENV, PAUSE_FILE_ENV

runner = CliRunner()


def _kill_when_paused(args: list[str], pause: str, marker: Path) -> None:
    """Runs the scan in a child process until the pause hook fires, then SIGKILLs its whole process group."""
    process = start_scan(args, env={PAUSE_ENV: pause, PAUSE_FILE_ENV: str(marker)})
    deadline = time.monotonic() + 120
    try:
        while not marker.exists():
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"the scan ended before pausing ({process.returncode}):\n{output}")
            if time.monotonic() > deadline:
                pytest.fail("the scan did not reach the pause point in 120 s")
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL


def _resume(args: list[str]) -> None:
    result = runner.invoke(main.app, args)
    assert result.exit_code == 0, result.output
    assert "(resumed)" in result.output


def _first_pass_sightings(result: ScanResult) -> int:
    return sum(1 for row in result.sightings if row[0].endswith("pass_1.mp4"))


def test_killed_between_sources_resumes_without_redoing_or_duplicating(
    patrol_archive: Path, uninterrupted: ScanResult, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    args = scan_args(patrol_archive, url, tmp_path)
    _kill_when_paused(args, "sources:1", tmp_path / "paused")
    killed = scan_result(url)
    assert sorted(killed.states.values()) == ["done", "pending"]
    assert len(killed.sightings) == _first_pass_sightings(uninterrupted)

    _resume(args)
    resumed = scan_result(url)
    assert set(resumed.states.values()) == {"done"}
    assert resumed.candidates == uninterrupted.candidates  # same ids, places, times, counts
    assert resumed.sightings == uninterrupted.sightings
    assert resumed.evidence == uninterrupted.evidence


def test_killed_mid_source_reruns_it_and_counts_each_track_once(
    patrol_archive: Path, uninterrupted: ScanResult, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    args = scan_args(patrol_archive, url, tmp_path)
    cut = _first_pass_sightings(uninterrupted) + 7  # seven sightings into the second video
    _kill_when_paused(args, f"sightings:{cut}", tmp_path / "paused")
    killed = scan_result(url)
    assert sorted(killed.states.values()) == ["done", "running"]
    assert len(killed.sightings) == cut

    _resume(args)
    resumed = scan_result(url)
    assert set(resumed.states.values()) == {"done"}
    assert resumed.candidates == uninterrupted.candidates
    assert resumed.sightings == uninterrupted.sightings
    assert resumed.evidence == uninterrupted.evidence  # no evidence rows twice for the re-run tracks


def test_killed_parallel_scan_resumes_to_the_same_candidates(
    apart_archive: Path, apart_sequential: ScanResult, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    args = scan_args(apart_archive, url, tmp_path, "--workers", "2")
    _kill_when_paused(args, "sightings:20", tmp_path / "paused")  # one worker pauses; the group dies at once
    assert "running" in scan_result(url).states.values()

    _resume(args)
    resumed = scan_result(url)
    assert set(resumed.states.values()) == {"done"}
    # Workers finish in any order, so candidate ids may differ; nothing else may.
    assert resumed.without_ids() == apart_sequential.without_ids()
    assert [row[:3] for row in resumed.sightings] == [row[:3] for row in apart_sequential.sightings]
    assert len(resumed.evidence) == len(apart_sequential.evidence)


@pytest.mark.slow
def test_the_shipped_model_gives_the_same_tracks_for_the_same_frames(patrol_archive: Path) -> None:
    """Resuming relies on it: a re-run source must give its tracks the ids the interrupted run recorded."""
    from service.defaults import default_model_path
    from service.pipeline.source import ModelDetector, PipelineSettings, SourcePipeline
    from vision.detect import load_detector
    from vision.sources import Sampling, open_source

    model = default_model_path()
    if not model.exists():
        pytest.skip(f"no shipped model at {model}")

    def tracks(threads: int | None) -> list[tuple[object, ...]]:
        detector = ModelDetector(load_detector(model, threads=threads, rect=True), conf=0.1)  # as scans load it
        found: list[tuple[object, ...]] = []
        pipeline = SourcePipeline(detector, PipelineSettings.for_camera("patrol", detector.names, 5.0))
        with open_source(patrol_archive / "pass_2.mp4", sampling=Sampling.per_second(5)) as frames:
            pipeline.run(
                frames,
                lambda s: found.append(
                    (s.track_id, s.class_name, s.first_time, s.last_time, s.frames_seen, s.score, s.best_frame.index)
                ),
            )
        return found

    first = tracks(None)
    assert len(first) >= 5
    assert tracks(None) == first
    assert tracks(1) == first  # another thread count: the same numbers
