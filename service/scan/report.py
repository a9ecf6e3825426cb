"""The summary report of a scan: an HTML page with thumbnails, and the candidates as CSV and GeoJSON.

Written into one folder (``index.html``, ``candidates.csv``, ``candidates.geojson``, ``thumbs/``): the candidates
every source of the scan opened or attached to (also those from sources an earlier, interrupted run finished), and
each source with how it was scanned (camera kind, sampling, where its start time came from, how it was located).
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2

from service.evidence import EvidenceError, EvidenceStore
from service.scan.plan import SourcePlan
from service.scan.queries import TouchedCandidate
from service.violations.listing import candidate_json, feature_collection

THUMB_HEIGHT = 96
CSV_FIELDS = (
    "id",
    "violation_type",
    "event_code",
    "class",
    "status",
    "lat",
    "lon",
    "accuracy_m",
    "first_seen",
    "last_seen",
    "sightings",
    "score",
    "sources",
    "crop",
    "frame",
)


@dataclass(frozen=True)
class SourceLine:
    """One source of the scan as the report shows it: its plan and its state in the job."""

    plan: SourcePlan
    state: str
    frames: int
    video_seconds: float
    hits: int
    error: str | None


@dataclass(frozen=True)
class ScanReport:
    """What goes into the report.

    Attributes:
        job_id: The scan job.
        sources: Every source of the scan.
        candidates: The candidates its sources touched.
        wall_seconds: How long this run took.
        run_video_seconds: Video scanned in this run.
    """

    job_id: int
    sources: tuple[SourceLine, ...]
    candidates: tuple[TouchedCandidate, ...]
    wall_seconds: float = 0.0
    run_video_seconds: float = 0.0


@dataclass(frozen=True)
class ReportFiles:
    """Where the report went."""

    folder: Path
    html: Path
    csv: Path
    geojson: Path


def write_report(report: ScanReport, folder: Path, evidence: EvidenceStore) -> ReportFiles:
    """Writes the HTML page, CSV, GeoJSON and thumbnails (from each candidate's newest crop) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    thumbs = _thumbnails(report.candidates, folder / "thumbs", evidence)
    files = ReportFiles(folder, folder / "index.html", folder / "candidates.csv", folder / "candidates.geojson")
    _write_csv(files.csv, report.candidates)
    collection = feature_collection(item.summary for item in report.candidates)
    for feature, item in zip(collection["features"], report.candidates, strict=True):
        feature["properties"]["sources"] = list(item.sources)
    files.geojson.write_text(json.dumps(collection, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    files.html.write_text(_html(report, thumbs), encoding="utf-8")
    return files


def _write_csv(path: Path, candidates: Sequence[TouchedCandidate]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for item in candidates:
            row = candidate_json(item.summary)
            paths = {record.kind: record.path for record in item.summary.evidence}
            writer.writerow(
                {
                    **{key: row[key] for key in CSV_FIELDS if key in row},
                    "sources": ";".join(item.sources),
                    "crop": paths.get("crop", ""),
                    "frame": paths.get("frame", ""),
                }
            )


def _thumbnails(candidates: Sequence[TouchedCandidate], folder: Path, evidence: EvidenceStore) -> dict[int, str]:
    """Small copies of each candidate's newest crop; candidate id → path relative to the report folder."""
    made: dict[int, str] = {}
    for item in candidates:
        crop = next((record for record in item.summary.evidence if record.kind == "crop"), None)
        if crop is None:
            continue
        try:
            image = cv2.imread(str(evidence.resolve(crop.path)))
        except EvidenceError:
            continue
        if image is None:
            continue
        height, width = image.shape[:2]
        scale = THUMB_HEIGHT / max(height, 1)
        small = cv2.resize(image, (max(1, round(width * scale)), THUMB_HEIGHT), interpolation=cv2.INTER_AREA)
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{item.summary.id}.jpg"), small, [cv2.IMWRITE_JPEG_QUALITY, 85])
        made[item.summary.id] = f"thumbs/{item.summary.id}.jpg"
    return made


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: middle; }
th { background: #f0f0f0; }
td.num { text-align: right; }
.failed { color: #a00; }
"""


def _html(report: ScanReport, thumbs: dict[int, str]) -> str:
    e = html.escape
    speed = report.run_video_seconds / report.wall_seconds if report.wall_seconds > 0 else 0.0
    failed = sum(1 for line in report.sources if line.state == "failed")
    lines = [
        "<!doctype html>",
        '<html><head><meta charset="utf-8">',
        f"<title>xiuhua scan {report.job_id}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Scan {report.job_id}</h1>",
        f"<p>{len(report.sources)} sources ({failed} failed), {len(report.candidates)} candidates; this run scanned "
        f"{report.run_video_seconds / 3600:.2f} h of video in {report.wall_seconds / 60:.1f} min "
        f"({speed:.1f}× real time). Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>",
        "<h2>Candidates</h2>",
        "<table><tr><th>crop</th><th>id</th><th>type</th><th>class</th><th>code</th><th>lat, lon</th>"
        "<th>±m</th><th>first seen (UTC)</th><th>last seen (UTC)</th><th>sightings</th><th>score</th>"
        "<th>sources</th></tr>",
    ]
    for item in report.candidates:
        c = item.summary
        thumb = f'<img src="{e(thumbs[c.id])}" alt="crop {c.id}">' if c.id in thumbs else ""
        accuracy = f"{c.accuracy_m:.0f}" if c.accuracy_m is not None else ""
        lines.append(
            f"<tr><td>{thumb}</td><td>{c.id}</td><td>{e(c.violation_type)}</td><td>{e(c.class_name)}</td>"
            f"<td>{e(c.event_code)}</td><td>{c.lat:.6f}, {c.lon:.6f}</td><td class=num>{accuracy}</td>"
            f"<td>{c.first_seen:%Y-%m-%d %H:%M:%S}</td><td>{c.last_seen:%Y-%m-%d %H:%M:%S}</td>"
            f"<td class=num>{c.sightings}</td><td class=num>{c.score:.2f}</td>"
            f"<td>{'<br>'.join(e(Path(s).name) for s in item.sources)}</td></tr>"
        )
    lines += [
        "</table>",
        "<h2>Sources</h2>",
        "<table><tr><th>file</th><th>state</th><th>kind</th><th>sampling</th><th>start (UTC)</th>"
        "<th>start from</th><th>located by</th><th>video s</th><th>frames</th><th>hits</th><th>notes</th></tr>",
    ]
    for line in report.sources:
        plan = line.plan
        notes = "; ".join([*plan.warnings, *([line.error] if line.error else [])])
        lines.append(
            f'<tr class="{e(line.state)}"><td title="{e(plan.path)}">{e(Path(plan.path).name)}</td>'
            f"<td>{e(line.state)}</td><td>{e(plan.kind or 'photo')}</td><td>{e(plan.describe_sampling())}</td>"
            f"<td>{plan.start.astimezone(UTC):%Y-%m-%d %H:%M:%S}</td>"
            f"<td>{e(plan.start_origin)}</td><td>{e(plan.location)}</td>"
            f"<td class=num>{line.video_seconds:.1f}</td><td class=num>{line.frames}</td>"
            f"<td class=num>{line.hits}</td><td>{e(notes)}</td></tr>"
        )
    lines += ["</table>", "</body></html>", ""]
    return "\n".join(lines)
