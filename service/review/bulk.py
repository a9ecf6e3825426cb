"""Bulk decisions over many selected candidates: each item decided and audited on its own.

An item that cannot be decided (already decided, claimed by another reviewer, gone) is reported in
:attr:`BulkResult.failed` and the others go ahead: every check of a decision runs before its first write, so a
refused item leaves nothing behind. Arguments that are wrong for all items (an unknown reason, too many ids)
refuse the whole call. Nothing commits here; the caller commits once for the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from service.db.base import utcnow
from service.errors import Invalid, ServiceError
from service.posting.payload import default_taxonomy
from service.review.access import active_user
from service.review.decisions import CaseFields, check_reason, confirm, reject
from vision.taxonomy import Taxonomy

MAX_BULK = 500


@dataclass(frozen=True)
class BulkFailure:
    """One item a bulk action could not decide.

    Attributes:
        candidate_id: The item.
        error: Why (a :class:`~service.errors.NotFound`, :class:`~service.errors.Conflict` …; its type gives the
            HTTP status, its message the reason).
    """

    candidate_id: int
    error: ServiceError


@dataclass(frozen=True)
class BulkResult:
    """What a bulk action did.

    Attributes:
        succeeded: Candidate ids decided, in the order given.
        failed: Candidates not decided, with the reason, in the order given.
        case_ids: For :func:`bulk_confirm`, the new case of each id in ``succeeded`` (same order); empty otherwise.
    """

    succeeded: tuple[int, ...]
    failed: tuple[BulkFailure, ...]
    case_ids: tuple[int, ...] = ()


def bulk_reject(
    session: Session,
    *,
    candidate_ids: Sequence[int],
    user_id: int,
    reason: str,
    note: str | None = None,
    now: datetime | None = None,
) -> BulkResult:
    """Reject each of ``candidate_ids`` with the same reason (see :func:`service.review.decisions.reject`).

    Raises:
        Invalid: Unknown reason, a note too long, no ids or more than ``MAX_BULK``.
        NotFound: No such user.
        Forbidden: The user is deactivated.
    """
    check_reason(reason, note)
    now = now or utcnow()
    ids = _unique(candidate_ids)
    active_user(session, user_id)

    def one(candidate_id: int) -> int | None:
        reject(session, candidate_id=candidate_id, user_id=user_id, reason=reason, note=note, now=now)
        return None

    return _each(ids, one)


def bulk_confirm(
    session: Session,
    *,
    candidate_ids: Sequence[int],
    user_id: int,
    fields: CaseFields | None = None,
    targets: Sequence[str] = ("http",),
    taxonomy: Taxonomy | None = None,
    now: datetime | None = None,
) -> BulkResult:
    """Confirm each of ``candidate_ids`` with the same case fields (see :func:`service.review.decisions.confirm`).

    Raises:
        Invalid: No ids or more than ``MAX_BULK``.
        NotFound: No such user.
        Forbidden: The user is deactivated.
    """
    now = now or utcnow()
    taxonomy = taxonomy or default_taxonomy()
    ids = _unique(candidate_ids)
    active_user(session, user_id)

    def one(candidate_id: int) -> int | None:
        case = confirm(
            session,
            candidate_id=candidate_id,
            user_id=user_id,
            fields=fields,
            targets=targets,
            taxonomy=taxonomy,
            now=now,
        )
        return case.id

    return _each(ids, one)


def _unique(candidate_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(candidate_ids))
    if not ids:
        raise Invalid("no candidates selected", field="candidate_ids")
    if len(ids) > MAX_BULK:
        raise Invalid(f"{len(ids)} candidates selected, at most {MAX_BULK} at once", field="candidate_ids")
    return ids


def _each(ids: list[int], decide: Callable[[int], int | None]) -> BulkResult:
    succeeded: list[int] = []
    failed: list[BulkFailure] = []
    case_ids: list[int] = []
    for candidate_id in ids:
        try:
            case_id = decide(candidate_id)
        except ServiceError as error:
            failed.append(BulkFailure(candidate_id=candidate_id, error=error))
            continue
        succeeded.append(candidate_id)
        if case_id is not None:
            case_ids.append(case_id)
    return BulkResult(succeeded=tuple(succeeded), failed=tuple(failed), case_ids=tuple(case_ids))
