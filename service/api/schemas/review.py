"""The review queue: claims, decisions, undo and bulk actions."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from service.api.schemas.candidates import CandidateDetail
from service.api.schemas.common import InputModel, PublicModel

RejectReason = Literal["false_detection", "permitted", "duplicate", "other"]


class QueueFilterIn(InputModel):
    """Which open candidates a reviewer wants next, and in which order."""

    violation_types: list[str] = Field(default_factory=list, max_length=50)
    class_names: list[str] = Field(default_factory=list, max_length=50)
    camera_ids: list[int] = Field(default_factory=list, max_length=500)
    area: tuple[float, float, float, float] | None = Field(
        default=None, description="min_lat, min_lon, max_lat, max_lon (WGS-84)."
    )
    seen_after: AwareDatetime | None = None
    seen_before: AwareDatetime | None = None
    min_score: float | None = Field(default=None, ge=0, le=1)
    order: Literal["oldest", "newest", "score"] = "oldest"


class ClaimIn(QueueFilterIn):
    """Claim the next item matching the filter, under a lease."""

    lease_s: float | None = Field(default=None, gt=0, le=24 * 3600, description="Lease length (default: 300 s).")


class ClaimPublic(PublicModel):
    """The claimed item (``null`` when nothing is left) and how many others wait."""

    candidate: CandidateDetail | None
    remaining: int


class LeaseIn(InputModel):
    """A new lease length."""

    lease_s: float | None = Field(default=None, gt=0, le=24 * 3600)


class ConfirmIn(InputModel):
    """What the reviewer adds for the city platform."""

    address: str | None = Field(default=None, max_length=512)
    district: str | None = Field(default=None, max_length=128)
    street: str | None = Field(default=None, max_length=128)
    grid: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=2048)


class RejectIn(InputModel):
    """Why it is not a violation."""

    reason: RejectReason
    note: str | None = Field(default=None, max_length=1024)


class RelabelIn(InputModel):
    """The right class."""

    class_name: str = Field(min_length=1, max_length=64)


class MergeIn(InputModel):
    """The candidate this one is the same violation as."""

    target_id: int


class UndoIn(InputModel):
    """The audit-log action to undo; ``null``: the caller's latest undoable one."""

    action_id: int | None = None


class DecisionPublic(PublicModel):
    """The candidate after the decision and, for a confirmation, its new case."""

    candidate: CandidateDetail
    case_id: int | None = None


class BulkIn(InputModel):
    """One decision over many selected candidates."""

    action: Literal["confirm", "reject"]
    candidate_ids: list[int] = Field(min_length=1, max_length=500)
    reason: RejectReason | None = Field(default=None, description="Required for reject.")
    note: str | None = Field(default=None, max_length=1024)
    fields: ConfirmIn | None = Field(default=None, description="Case fields for confirm.")


class BulkFailurePublic(PublicModel):
    """One item not decided: the HTTP status its error maps to and why."""

    candidate_id: int
    status: int
    detail: str


class BulkPublic(PublicModel):
    """What a bulk action did, item by item."""

    succeeded: list[int]
    failed: list[BulkFailurePublic]
    case_ids: list[int]
