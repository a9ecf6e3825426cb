"""Archives to scan and what a scan left in the database, for the scan tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from service.db import make_engine, session_factory
from service.db.models import Candidate, Evidence, ScanSource, Sighting

# Runs the CLI with the scan command registered whether or not main.py registers it yet.
LAUNCHER = "import service.cli.main as main, service.cli.scan; main.app()"


def make_patrol_archive(folder: Path) -> Path:
    """Two synthetic patrol passes of one street on different days (``pass_1.mp4``, ``pass_2.mp4``), each with its
    GPX track beside it and its ground truth (``pass_K_frames.jsonl``); 320x180 at 5 fps, ~170 frames in all.
    """
    from vision.synth.patrol import write_patrol

    write_patrol(folder, seed=4, passes=2, fps=5.0, size=(320, 180))
    return folder


def make_apart_archive(archive: Path, folder: Path) -> Path:
    """The two passes of ``archive`` on streets 11 km apart (the second's GPX moved 0.1 degrees north).

    Sources that never see the same place are independent: scanned in parallel (workers, Ray tasks) in any order,
    they give exactly the candidates of a scan one after the other. (Sources that do see one place may group a
    sighting at the edge of the de-duplication radius differently depending on which was recorded first.)
    """
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".mp4", ".gpx", "_frames.jsonl"):
        shutil.copyfile(archive / f"pass_1{suffix}", folder / f"near{suffix}")
        if suffix != ".gpx":
            shutil.copyfile(archive / f"pass_2{suffix}", folder / f"far{suffix}")
    moved = re.sub(
        r'lat="([-0-9.]+)"', lambda m: f'lat="{float(m.group(1)) + 0.1:.7f}"', (archive / "pass_2.gpx").read_text()
    )
    (folder / "far.gpx").write_text(moved)
    return folder


def scan_args(archive: Path, database_url: str, workdir: Path, *extra: str) -> list[str]:
    """The arguments of a ground-truth scan of ``archive`` into ``database_url``, evidence under ``workdir``."""
    return [
        "scan",
        str(archive),
        "--detector",
        "truth",
        "--database",
        database_url,
        "--evidence",
        str(workdir / "evidence"),
        "--report",
        str(workdir / "report"),
        *extra,
    ]


def start_scan(args: list[str], *, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The scan command in a child process of its own session (so its whole process group can be killed)."""
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *args],
        env={**os.environ, **(env or {})},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@dataclass(frozen=True)
class ScanResult:
    """What a scan left in the database."""

    candidates: tuple[tuple[Any, ...], ...]  # id, type, class, lat, lon, first/last seen, sightings, score
    sightings: tuple[tuple[Any, ...], ...]  # source, track key, status, candidate id, class, frames seen
    evidence: tuple[tuple[int, str], ...]  # candidate id, kind (one row per file)
    by_group: dict[frozenset[tuple[str, str]], tuple[Any, ...]]  # a candidate's (source, track key)s → its row
    states: dict[str, str]  # source path → state

    def without_ids(self) -> dict[frozenset[tuple[str, str]], tuple[Any, ...]]:
        """Each candidate's row but its id, by its sightings (ids follow the order candidates were opened in)."""
        return {group: row[1:] for group, row in self.by_group.items()}


def scan_result(url: str) -> ScanResult:
    """Reads candidates, sightings, evidence and source states."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            candidates = tuple(
                (c.id, c.violation_type, c.class_name, round(c.lat, 9), round(c.lon, 9), c.first_seen, c.last_seen,
                 c.sightings_count, round(c.score, 9))
                for c in session.scalars(select(Candidate).order_by(Candidate.id))
            )  # fmt: skip
            rows = list(session.scalars(select(Sighting)))
            sightings = tuple(
                sorted((s.source, s.track_key, s.status, s.candidate_id, s.class_name, s.frames_seen) for s in rows)
            )
            evidence = tuple(sorted((e.candidate_id, e.kind) for e in session.scalars(select(Evidence))))
            grouped: dict[int, set[tuple[str, str]]] = {}
            for s in rows:
                if s.candidate_id is not None:
                    grouped.setdefault(s.candidate_id, set()).add((s.source, s.track_key))
            states = {source.path: source.state for source in session.scalars(select(ScanSource))}
    finally:
        engine.dispose()
    rows_by_id = {row[0]: row for row in candidates}
    by_group = {frozenset(group): rows_by_id[candidate_id] for candidate_id, group in grouped.items()}
    return ScanResult(candidates, sightings, evidence, by_group, states)
