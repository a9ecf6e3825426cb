"""Ingest of external detections: the same JSON lines as ``xiuhua ingest``, as a request body."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from service.api.deps import ContextDep, UserDep
from service.api.errors import UnsupportedMediaType
from service.api.schemas.common import error_responses
from service.api.schemas.ingest import IngestPublic, LineProblemPublic
from service.errors import Invalid

if TYPE_CHECKING:
    from service.violations.ingest import Ingest, LineProblem

router = APIRouter(prefix="/api", tags=["ingest"], responses=error_responses(401, 403, 413, 415, 422))
JSON_LINES_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "text/plain")
MAX_PROBLEMS = 1000
IngestFactory = Callable[[Callable[["LineProblem"], None]], "Ingest"]


@router.post(
    "/ingest",
    response_model=IngestPublic,
    openapi_extra={"requestBody": {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
)
async def ingest(request: Request, user: UserDep, context: ContextDep) -> JSONResponse:
    """Ingest detections, one JSON object per line (``source, camera, time, lat, lon, class, confidence, box,
    track_id``), de-duplicated by location into candidates; bad lines are reported by number and skipped.

    ``image`` paths are not accepted over HTTP (they would name files on this server): such lines go in without
    evidence, with a warning. 200 with the report when anything could be read; 422 when no line was good.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in JSON_LINES_TYPES:
        raise UnsupportedMediaType(None, f"send JSON lines as {JSON_LINES_TYPES[0]}, not {media_type or 'nothing'}")
    body = await request.body()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid(f"not UTF-8 at byte {error.start}", field="body") from error
    problems: list[LineProblem] = []
    job = context.make_ingest(problems.append)
    report = await run_in_threadpool(
        job.run, _without_images(text, problems), context.sessions, base_dir=context.uploads_dir
    )
    problems.sort(key=lambda problem: problem.line_number)
    public = IngestPublic(
        **asdict(report),
        problems=[LineProblemPublic(line=p.line_number, message=p.message, skipped=p.skipped) for p in problems][
            :MAX_PROBLEMS
        ],
        problems_truncated=len(problems) > MAX_PROBLEMS,
    )
    if report.lines == 0:
        raise Invalid("no detection lines in the body", field="body")
    status = 422 if report.bad == report.lines else 200
    return JSONResponse(public.model_dump(mode="json"), status_code=status)


def default_ingest() -> IngestFactory:
    """The ingest ``xiuhua ingest`` runs with its defaults: the taxonomy's classes, default de-duplication."""
    from service.violations.dedup import DedupSettings
    from service.violations.ingest import Ingest
    from service.violations.recorder import Recorder
    from service.violations.verdicts import taxonomy_judge
    from vision.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    judge = taxonomy_judge(taxonomy)

    def make(on_problem: Callable[[LineProblem], None]) -> Ingest:
        return Ingest(Recorder(DedupSettings()), judge, known_classes=taxonomy.class_names, on_problem=on_problem)

    return make


def _without_images(text: str, problems: list[LineProblem]) -> Iterator[str]:
    """The lines, with any ``image`` path removed (and a warning): files on this server are not the caller's."""
    from service.violations.ingest import LineProblem

    for number, line in enumerate(text.splitlines(), start=1):
        try:
            record = json.loads(line)
        except ValueError:
            yield line  # the ingest reports it with its line number
            continue
        if isinstance(record, dict) and record.get("image") is not None:
            record["image"] = None
            message = f"line {number}: image: paths are not accepted over HTTP; ingested without evidence"
            problems.append(LineProblem(number, message, skipped=False))
            yield json.dumps(record)
        else:
            yield line
