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
from vision.frame import GeoPoint
from vision.geo import distance_m

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
    patrol_archive: Path, uninterrupted: ScanResult, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    args = scan_args(patrol_archive, url, tmp_path, "--workers", "2")
    _kill_when_paused(args, "sightings:20", tmp_path / "paused")  # one worker pauses; the group dies at once
    assert "running" in scan_result(url).states.values()

    _resume(args)
    resumed = scan_result(url)
    assert set(resumed.states.values()) == {"done"}
    # Workers finish in any order, so who opened a candidate (its id, its class) may differ; what was grouped, and
    # each group's times, counts and score, may not.
    assert resumed.order_free() == uninterrupted.order_free()
    for group in resumed.groups:
        assert distance_m(GeoPoint(*resumed.position(group)), GeoPoint(*uninterrupted.position(group))) < 1.0
    assert [row[:3] for row in resumed.sightings] == [row[:3] for row in uninterrupted.sightings]
    assert len(resumed.evidence) == len(uninterrupted.evidence)
