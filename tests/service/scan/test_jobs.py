"""Scan jobs and their sources' states; the GPS clock offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from factories.database import BACKENDS, created_engine

from service.db import session_factory
from service.errors import NotFound
from service.scan import jobs
from service.scan.locate import ShiftedLocator
from service.scan.runner import default_threads
from vision.frame import Frame, GeoPoint
from vision.sighting import Sighting


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_source_goes_pending_running_done_and_the_job_finishes_with_its_last(backend: str, tmp_path: Path) -> None:
    with created_engine(backend, tmp_path) as engine, session_factory(engine)() as session:
        job, existed = jobs.open_job(session, key="k" * 64, options={"kind": "patrol"})
        again, existed_again = jobs.open_job(session, key="k" * 64, options={})
        assert (existed, existed_again, again.id) == (False, True, job.id)
        assert jobs.add_sources(session, job_id=job.id, paths=["/a.mp4", "/b.mp4", "/a.mp4"]) == 2
        assert jobs.add_sources(session, job_id=job.id, paths=["/b.mp4", "/c.mp4"]) == 1
        assert [s.state for s in jobs.job_sources(session, job_id=job.id)] == ["pending"] * 3

        jobs.start_source(session, job_id=job.id, path="/a.mp4")
        jobs.finish_source(session, job_id=job.id, path="/a.mp4", frames=10, video_seconds=5.0, hits=2)
        jobs.start_source(session, job_id=job.id, path="/b.mp4")
        failed = jobs.finish_source(
            session, job_id=job.id, path="/b.mp4", frames=1, video_seconds=0.5, hits=0, error="x" * 5000
        )
        assert failed.state == "failed" and len(failed.error or "") == 2048
        assert not jobs.finish_job(session, job_id=job.id)
        for path in ("/b.mp4", "/c.mp4"):
            running = jobs.start_source(session, job_id=job.id, path=path)
            assert (running.state, running.error, running.frames) == ("running", None, 0)
            jobs.finish_source(session, job_id=job.id, path=path, frames=1, video_seconds=1.0, hits=0)
        assert jobs.finish_job(session, job_id=job.id)
        session.commit()
        with pytest.raises(NotFound, match="no source"):
            jobs.start_source(session, job_id=job.id, path="/d.mp4")


class _Fixed:
    """Answers with the time it was asked about, as a latitude offset."""

    def __init__(self) -> None:
        self.asked: list[datetime] = []

    def locate(self, sighting: Sighting, seen_at: datetime) -> GeoPoint | None:
        self.asked.append(seen_at)
        return GeoPoint(30.0, 120.0)


def test_the_gps_offset_shifts_only_the_track_lookup() -> None:
    frame = Frame(np.zeros((4, 4, 3), np.uint8), "clip.mp4", 0, 0.0)
    sighting = Sighting("clip.mp4", 1, 0, "banner", 0.0, 1.0, 2, 0.9, frame, np.zeros(4, np.float32))
    inner = _Fixed()
    seen = datetime(2024, 1, 1, tzinfo=UTC)
    assert ShiftedLocator(inner, 2.5).locate(sighting, seen) == GeoPoint(30.0, 120.0)
    assert inner.asked == [seen + timedelta(seconds=2.5)]


@pytest.mark.parametrize(("workers", "cpus", "threads"), [(1, 2, 1), (2, 2, 1), (1, 16, 15), (4, 16, 3), (8, 4, 1)])
def test_each_worker_leaves_a_core_for_decoding(workers: int, cpus: int, threads: int) -> None:
    assert default_threads(workers, cpus) == threads
