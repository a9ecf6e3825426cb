"""Batch scanning of video and photo archives: ``xiuhua scan``.

The whole pipeline (detect → track → compare with the reference → locate → rules → de-duplicate → queue) over
files and folders, resumable, in parallel worker processes or as Ray tasks::

    from service.scan import ScanOptions, ScanRequest, run_scan

    summary = run_scan(ScanRequest(inputs=("archive/",), options=ScanOptions(), database_url=url, workers=2))
    print(summary.hits, summary.report.html if summary.report else None)

- `inputs`: the command's paths → videos and photos, each video with its sidecar GPS track.
- `plan`: per source, before decoding: camera kind, sampling, start time (and where it came from), location.
- `jobs`: the job and its sources' states (``scan_jobs``, ``scan_sources``): the same command resumes.
- `worker`: one process's engine and detector; one source at a time, committed sighting by sighting.
- `local` / `ray_backend`: where the workers run. `report`: HTML, CSV and GeoJSON of the touched candidates.
"""

from __future__ import annotations

from service.scan.inputs import InputProblem, SourceFile, discover, find_sidecar
from service.scan.options import CAMERA_KINDS, DEFAULT_FPS, ScanOptions, job_key
from service.scan.plan import CameraInfo, SourcePlan, plan_source
from service.scan.runner import ScanProgressView, ScanRequest, ScanSummary, run_scan
from service.scan.worker import ScanWorker, SourceOutcome, WorkerConfig

__all__ = [
    "CAMERA_KINDS",
    "DEFAULT_FPS",
    "CameraInfo",
    "InputProblem",
    "ScanOptions",
    "ScanProgressView",
    "ScanRequest",
    "ScanSummary",
    "ScanWorker",
    "SourceFile",
    "SourceOutcome",
    "SourcePlan",
    "WorkerConfig",
    "discover",
    "find_sidecar",
    "job_key",
    "plan_source",
    "run_scan",
]
