"""Decisions: confirm (case + event + outbox in one transaction), reject, relabel, merge, bulk, hard negatives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from factories.review import NOW, add_sighting, make_candidates, make_user, taxonomy_with_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import service.review.decisions as decisions
from service.db.models import Candidate, Case, CaseEvent, Evidence, OutboxMessage, ReviewAction, Sighting
from service.errors import Conflict, Invalid, NotFound
from service.review import (
    CaseFields,
    bulk_confirm,
    bulk_reject,
    claim_next,
    confirm,
    hard_negatives,
    history,
    merge,
    reject,
    relabel,
)


def count(session: Session, table: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_confirm_creates_the_case_its_accepted_event_and_outbox_row_together(session: Session) -> None:
    alice = make_user(session, "alice")
    (item,) = make_candidates(session, 1, class_name="banner", violation_type="illegal_advertising", event_code="0202")
    session.commit()
    claim_next(session, user_id=alice.id, now=NOW)

    fields = CaseFields(address="南京东路 100 号", district="黄浦区", street="南京东路街道", grid="HP-07")
    case = confirm(session, candidate_id=item.id, user_id=alice.id, fields=fields, now=NOW)
    session.commit()

    assert (case.event_code, case.violation_type, case.stage) == ("0202", "illegal_advertising", "accepted")
    assert (case.district, case.grid, case.lat, case.lon) == ("黄浦区", "HP-07", item.lat, item.lon)
    assert case.confirmed_by_id == alice.id
    assert item.status == "confirmed" and item.claimed_by_id is None
    (event,) = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert (event.stage, event.at) == ("accepted", NOW)
    (message,) = session.scalars(select(OutboxMessage)).all()
    assert (message.case_id, message.state, message.target) == (case.id, "pending", "http")
    assert message.payload["minor_type_code"] == "0202" and message.payload["district"] == "黄浦区"
    (action,) = [a for a in history(session, candidate_id=item.id) if a.action == "confirm"]
    assert action.user_id == alice.id and action.details["case_id"] == case.id  # type: ignore[index]


def test_a_failure_after_the_case_insert_stores_nothing(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = make_user(session, "alice")
    (item,) = make_candidates(session, 1)
    session.commit()

    def broken_outbox(session: Session, **_: Any) -> list[OutboxMessage]:
        assert session.scalar(select(func.count()).select_from(Case)) == 1, "the case row is in the transaction"
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(decisions, "enqueue_case", broken_outbox)
    with pytest.raises(RuntimeError, match="outbox unavailable"):
        confirm(session, candidate_id=item.id, user_id=alice.id, now=NOW)
    session.rollback()

    assert (count(session, Case), count(session, CaseEvent), count(session, OutboxMessage)) == (0, 0, 0)
    assert count(session, ReviewAction) == 0
    assert session.get(Candidate, item.id).status == "open"  # type: ignore[union-attr]


def test_a_decision_on_an_item_someone_else_holds_is_a_conflict_unless_admin(session: Session) -> None:
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    admin = make_user(session, "root", role="admin")
    first, second = make_candidates(session, 2)
    session.commit()
    claim_next(session, user_id=alice.id, now=NOW)
    claim_next(session, user_id=bob.id, now=NOW)

    with pytest.raises(Conflict, match=f"claimed by user {alice.id}"):
        reject(session, candidate_id=first.id, user_id=bob.id, reason="other", now=NOW)
    with pytest.raises(Conflict, match=f"claimed by user {alice.id}"):
        confirm(session, candidate_id=first.id, user_id=bob.id, now=NOW)
    confirm(session, candidate_id=second.id, user_id=admin.id, now=NOW)
    later = NOW + timedelta(seconds=301)  # alice's lease ran out: anyone may decide
    reject(session, candidate_id=first.id, user_id=bob.id, reason="permitted", now=later)
    with pytest.raises(Conflict, match="already rejected"):
        confirm(session, candidate_id=first.id, user_id=alice.id, now=later)
    with pytest.raises(NotFound, match="candidate 999999999"):
        confirm(session, candidate_id=999_999_999, user_id=alice.id, now=later)


@pytest.mark.parametrize(("reason", "note", "field"), [("ugly", None, "reason"), ("other", "x" * 1025, "note")])
def test_reject_reasons_and_notes_are_checked(session: Session, reason: str, note: str | None, field: str) -> None:
    alice = make_user(session, "alice")
    (item,) = make_candidates(session, 1)
    session.commit()

    with pytest.raises(Invalid) as caught:
        reject(session, candidate_id=item.id, user_id=alice.id, reason=reason, note=note, now=NOW)
    assert caught.value.field == field
    assert item.status == "open"


def test_reject_records_reason_and_becomes_a_hard_negative(session: Session) -> None:
    alice = make_user(session, "alice")
    wrong, legal = make_candidates(session, 2)
    add_sighting(session, wrong, track_key="t1", box=(1, 2, 3, 4), frame_path="1/frame.jpg")
    session.commit()

    reject(session, candidate_id=wrong.id, user_id=alice.id, reason="false_detection", note="a parked van", now=NOW)
    reject(session, candidate_id=legal.id, user_id=alice.id, reason="permitted", now=NOW)
    session.commit()

    (negative,) = hard_negatives(session, since=NOW - timedelta(hours=1))
    assert (negative.candidate_id, negative.reason, negative.note) == (wrong.id, "false_detection", "a parked van")
    assert negative.rejected_by_id == alice.id and negative.rejected_at == NOW
    (evidence,) = negative.evidence
    assert (evidence.path, evidence.box) == ("1/frame.jpg", (1.0, 2.0, 3.0, 4.0))
    assert len(hard_negatives(session, reasons=("false_detection", "permitted"))) == 2
    assert hard_negatives(session, since=NOW + timedelta(seconds=1)) == []
    with pytest.raises(Invalid):
        hard_negatives(session, reasons=("ugly",))


def test_relabel_updates_type_and_event_code_from_the_taxonomy(session: Session) -> None:
    alice = make_user(session, "alice")
    (item,) = make_candidates(session, 1)
    session.commit()

    relabel(session, candidate_id=item.id, user_id=alice.id, class_name="ad_board", now=NOW)
    assert (item.class_name, item.violation_type, item.event_code) == ("ad_board", "illegal_advertising", "0203")
    (action,) = session.scalars(select(ReviewAction).where(ReviewAction.action == "relabel")).all()
    assert action.details["before"]["event_code"] == "0501"  # type: ignore[index]
    relabel(session, candidate_id=item.id, user_id=alice.id, class_name="ad_board", now=NOW)  # no change
    assert count(session, ReviewAction) == 1

    case = confirm(session, candidate_id=item.id, user_id=alice.id, now=NOW)
    assert (case.event_code, case.violation_type) == ("0203", "illegal_advertising")


def test_relabel_refuses_unknown_and_context_classes(session: Session, tmp_path: Path) -> None:
    alice = make_user(session, "alice")
    (item,) = make_candidates(session, 1)
    session.commit()
    taxonomy = taxonomy_with_context(tmp_path)

    with pytest.raises(Invalid, match="not a class"):
        relabel(session, candidate_id=item.id, user_id=alice.id, class_name="dragon", now=NOW)
    with pytest.raises(Invalid, match="scene context"):
        relabel(session, candidate_id=item.id, user_id=alice.id, class_name="person", taxonomy=taxonomy, now=NOW)


def test_a_context_or_unknown_class_cannot_be_confirmed(session: Session, tmp_path: Path) -> None:
    alice = make_user(session, "alice")
    (person,) = make_candidates(session, 1, class_name="person")
    (dragon,) = make_candidates(session, 1, class_name="dragon", event_code="9999")
    (legacy,) = make_candidates(session, 1, class_name="old_stall")  # unknown class, known code: kept
    session.commit()

    with pytest.raises(Conflict, match="scene context"):
        confirm(session, candidate_id=person.id, user_id=alice.id, taxonomy=taxonomy_with_context(tmp_path), now=NOW)
    with pytest.raises(Conflict, match="relabel it"):
        confirm(session, candidate_id=dragon.id, user_id=alice.id, now=NOW)
    assert confirm(session, candidate_id=legacy.id, user_id=alice.id, now=NOW).event_code == "0501"


def test_case_fields_are_checked() -> None:
    with pytest.raises(Invalid) as caught:
        CaseFields(grid="G" * 65)
    assert caught.value.field == "grid"


def test_merge_moves_sightings_evidence_and_counts_to_the_target(session: Session) -> None:
    alice = make_user(session, "alice")
    target, source = make_candidates(session, 2)
    source.sightings_count, source.score = 2, 0.95
    add_sighting(session, source, track_key="s1", frame_path="s/frame.jpg")
    add_sighting(session, source, track_key="s2")
    add_sighting(session, target, track_key="t1")
    session.commit()

    merged = merge(session, source_id=source.id, target_id=target.id, user_id=alice.id, now=NOW)
    session.commit()

    assert merged.id == target.id and target.sightings_count == 3 and target.score == 0.95
    assert (target.first_seen, target.last_seen) == (target.first_seen, source.last_seen)
    assert (source.status, source.merged_into_id, source.sightings_count) == ("merged", target.id, 0)
    on_target = session.scalars(select(Sighting.track_key).where(Sighting.candidate_id == target.id)).all()
    assert sorted(on_target) == ["s1", "s2", "t1"]
    assert session.scalars(select(Evidence.candidate_id)).all() == [target.id]
    with pytest.raises(Conflict, match=f"merged into candidate {target.id}"):
        merge(session, source_id=source.id, target_id=target.id, user_id=alice.id, now=NOW)
    with pytest.raises(Conflict, match="already merged"):
        merge(session, source_id=target.id, target_id=source.id, user_id=alice.id, now=NOW)
    with pytest.raises(Invalid, match="into itself"):
        merge(session, source_id=target.id, target_id=target.id, user_id=alice.id, now=NOW)


def test_merge_into_a_confirmed_candidate(session: Session) -> None:
    alice = make_user(session, "alice")
    known, repeat = make_candidates(session, 2)
    confirm(session, candidate_id=known.id, user_id=alice.id, now=NOW)

    merge(session, source_id=repeat.id, target_id=known.id, user_id=alice.id, now=NOW)
    assert known.sightings_count == 2 and repeat.status == "merged"


def test_bulk_reject_decides_each_item_and_reports_the_rest(session: Session) -> None:
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    items = make_candidates(session, 4)
    session.commit()
    claim_next(session, user_id=bob.id, now=NOW)  # bob holds items[0]
    reject(session, candidate_id=items[1].id, user_id=alice.id, reason="other", now=NOW)

    ids = [item.id for item in items] + [999_999_999, items[2].id]
    result = bulk_reject(session, candidate_ids=ids, user_id=alice.id, reason="duplicate", now=NOW)
    session.commit()

    assert result.succeeded == (items[2].id, items[3].id)
    failures = {failure.candidate_id: type(failure.error) for failure in result.failed}
    assert failures == {items[0].id: Conflict, items[1].id: Conflict, 999_999_999: NotFound}
    assert items[0].status == "open" and items[0].claimed_by_id == bob.id
    rejects = session.scalars(select(ReviewAction).where(ReviewAction.reason == "duplicate")).all()
    assert sorted(a.candidate_id for a in rejects) == [items[2].id, items[3].id]
    with pytest.raises(Invalid):
        bulk_reject(session, candidate_ids=[items[3].id], user_id=alice.id, reason="ugly", now=NOW)
    with pytest.raises(Invalid):
        bulk_reject(session, candidate_ids=[], user_id=alice.id, reason="other", now=NOW)


def test_bulk_confirm_makes_one_case_and_one_outbox_row_per_item(session: Session) -> None:
    alice = make_user(session, "alice")
    items = make_candidates(session, 3)
    items[1].class_name, items[1].event_code = "dragon", "9999"  # not in the taxonomy: cannot become a case
    session.commit()

    result = bulk_confirm(
        session, candidate_ids=[i.id for i in items], user_id=alice.id, fields=CaseFields(district="黄浦区"), now=NOW
    )
    session.commit()

    assert result.succeeded == (items[0].id, items[2].id) and len(result.case_ids) == 2
    assert [f.candidate_id for f in result.failed] == [items[1].id]
    assert count(session, Case) == 2 and count(session, OutboxMessage) == 2 and count(session, CaseEvent) == 2
    assert items[1].status == "open"
