"""A scan distributed as Ray tasks (local Ray, shared PostgreSQL) finds the same candidates as the local scan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories.database import temporary_database
from factories.scans import ScanResult, scan_args, scan_result
from typer.testing import CliRunner

import service.cli.main as main


@pytest.fixture
def local_ray() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning")
    try:
        yield ray
    finally:
        ray.shutdown()


def test_a_ray_scan_gives_the_candidates_of_the_local_scan(
    local_ray: Any, apart_archive: Path, apart_sequential: ScanResult, tmp_path: Path
) -> None:
    with temporary_database("postgresql", tmp_path) as url:
        result = CliRunner().invoke(main.app, [*scan_args(apart_archive, url, tmp_path), "--ray"])
        assert result.exit_code == 0, result.output
        on_ray = scan_result(url)
    assert set(on_ray.states.values()) == {"done"}
    # Two tasks ran at once, so candidate ids may differ (and PostgreSQL's sequences skip); nothing else may.
    assert on_ray.without_ids() == apart_sequential.without_ids()
    assert [row[:3] for row in on_ray.sightings] == [row[:3] for row in apart_sequential.sightings]
    assert len(on_ray.evidence) == len(apart_sequential.evidence)
