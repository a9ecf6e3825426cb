"""The review queue and reviewers' decisions, as plain functions over a SQLAlchemy ``Session``.

Claim, decide, undo; nothing commits (the request or work unit commits once), and every failure is a
:class:`service.errors.ServiceError`::

    candidate = claim_next(session, user_id=me, filters=QueueFilter(order="score"))
    case = confirm(session, candidate_id=candidate.id, user_id=me, fields=CaseFields(district="黄浦区"))
    session.commit()
"""

from service.review.access import history
from service.review.bulk import BulkFailure, BulkResult, bulk_confirm, bulk_reject
from service.review.decisions import CaseFields, confirm, merge, reject, relabel
from service.review.negatives import HARD_NEGATIVE_REASONS, EvidenceItem, HardNegative, hard_negatives
from service.review.queue import DEFAULT_LEASE_S, QueueFilter, claim_next, current_claim, extend, queue_size, release
from service.review.undo import UNDO_WINDOW_S, last_undoable, undo, undo_last

__all__ = [
    "DEFAULT_LEASE_S",
    "HARD_NEGATIVE_REASONS",
    "UNDO_WINDOW_S",
    "BulkFailure",
    "BulkResult",
    "CaseFields",
    "EvidenceItem",
    "HardNegative",
    "QueueFilter",
    "bulk_confirm",
    "bulk_reject",
    "claim_next",
    "confirm",
    "current_claim",
    "extend",
    "hard_negatives",
    "history",
    "last_undoable",
    "merge",
    "queue_size",
    "reject",
    "relabel",
    "release",
    "undo",
    "undo_last",
]
