"""A patrol archive rendered once per session, and its uninterrupted scan to compare others with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from factories.scans import ScanResult, make_apart_archive, make_patrol_archive, scan_args, scan_result
from typer.testing import CliRunner

import service.cli.main as main
import service.cli.scan  # noqa: F401  (registers the command on main.app)


@pytest.fixture(scope="session")
def patrol_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pass_1.mp4`` and ``pass_2.mp4`` with their GPX tracks and ground truth."""
    return make_patrol_archive(tmp_path_factory.mktemp("patrol"))


@dataclass(frozen=True)
class FirstScan:
    """The archive's scan: where it went, what it printed, what it left in the database."""

    url: str
    workdir: Path
    output: str
    result: ScanResult


@pytest.fixture(scope="session")
def first_scan(patrol_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> FirstScan:
    """The archive scanned once, start to end, with one worker (SQLite)."""
    return _scan(patrol_archive, tmp_path_factory.mktemp("uninterrupted"))


@pytest.fixture(scope="session")
def uninterrupted(first_scan: FirstScan) -> ScanResult:
    """What the uninterrupted scan left in the database."""
    return first_scan.result


@pytest.fixture(scope="session")
def apart_archive(patrol_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``near.mp4`` and ``far.mp4``: the passes on streets 11 km apart (independent of the order they are recorded)."""
    return make_apart_archive(patrol_archive, tmp_path_factory.mktemp("apart"))


@pytest.fixture(scope="session")
def apart_sequential(apart_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    """The apart archive scanned one source after the other."""
    return _scan(apart_archive, tmp_path_factory.mktemp("apart-sequential")).result


def _scan(archive: Path, workdir: Path) -> FirstScan:
    """Scans ``archive`` into a new SQLite database in ``workdir``; the scan must succeed."""
    url = f"sqlite:///{workdir / 'scan.db'}"
    result = CliRunner().invoke(main.app, scan_args(archive, url, workdir))
    assert result.exit_code == 0, result.output
    return FirstScan(url, workdir, result.output, scan_result(url))
