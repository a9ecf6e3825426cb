"""Evidence files, served read-only from the evidence folder; a path can never leave it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from service.api.deps import ContextDep, UserDep
from service.api.errors import ApiError
from service.api.schemas.common import error_responses
from service.errors import NotFound
from service.evidence import EvidenceNotFound, UnsafeEvidencePath

router = APIRouter(prefix="/api/evidence", tags=["evidence"], responses=error_responses(400, 401, 404))
# Evidence never changes under its name (names carry a content hash); browsers may keep it, proxies may not.
CACHE_HEADERS = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}


@router.get("/{path:path}", response_class=FileResponse)
def evidence_file(path: str, user: UserDep, context: ContextDep) -> FileResponse:
    """The evidence file at ``path`` (as listed in a candidate's ``evidence``), relative to the evidence folder."""
    try:
        file = context.evidence.resolve(path)
    except UnsafeEvidencePath as error:
        raise ApiError(f"path {error.reason}", field="path") from error
    except EvidenceNotFound as error:
        raise NotFound(f"no evidence file {path!r}") from error
    return FileResponse(file, headers=CACHE_HEADERS)
