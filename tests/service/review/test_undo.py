"""Undo within the window: each decision reversed, newest first, never after the case went to the platform."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories.review import NOW, add_sighting, make_candidates, make_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.models import Case, CaseEvent, OutboxMessage, ReviewAction, Sighting
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.review import (
    claim_next,
    confirm,
    current_claim,
    hard_negatives,
    last_undoable,
    merge,
    reject,
    relabel,
    undo,
    undo_last,
)
from service.review.undo import UNDO_WINDOW_S


def action_of(session: Session, candidate_id: int, kind: str) -> ReviewAction:
    return session.scalars(
        select(ReviewAction)
        .where(ReviewAction.candidate_id == candidate_id, ReviewAction.action == kind)
        .order_by(ReviewAction.id.desc())
    ).first()  # type: ignore[return-value]


def test_undo_of_a_confirmation_removes_the_case_and_its_unsent_outbox_rows(session: Session) -> None:
    alice = make_user(session, "alice")
    item, _ = make_candidates(session, 2)
    session.commit()
    claim_next(session, user_id=alice.id, now=NOW)
    confirm(session, candidate_id=item.id, user_id=alice.id, now=NOW)
    claim_next(session, user_id=alice.id, now=NOW)  # on to the next item
    session.commit()

    back = undo_last(session, user_id=alice.id, now=NOW + timedelta(seconds=30))
    session.commit()

    assert back.id == item.id and back.status == "open" and back.claimed_by_id == alice.id
    assert current_claim(session, user_id=alice.id, now=NOW + timedelta(seconds=30)).id == item.id  # type: ignore[union-attr]
    for table in (Case, CaseEvent, OutboxMessage):
        assert session.scalar(select(func.count()).select_from(table)) == 0
    confirmation = action_of(session, item.id, "confirm")
    assert confirmation.undone_by_id == action_of(session, item.id, "undo").id
    with pytest.raises(Conflict, match="already undone"):
        undo(session, action_id=confirmation.id, user_id=alice.id, now=NOW + timedelta(seconds=31))
    again = confirm(session, candidate_id=item.id, user_id=alice.id, now=NOW + timedelta(seconds=40))
    assert again.stage == "accepted", "an undone item can be decided again"


@pytest.mark.parametrize(("state", "attempts"), [("sent", 1), ("pending", 1), ("dead", 5)])
def test_undo_is_refused_once_posting_started(session: Session, state: str, attempts: int) -> None:
    alice = make_user(session, "alice")
    (item,) = make_candidates(session, 1)
    case = confirm(session, candidate_id=item.id, user_id=alice.id, now=NOW)
    session.commit()
    message = session.scalars(select(OutboxMessage)).one()
    message.state, message.attempts = state, attempts
    session.commit()

    with pytest.raises(Conflict, match=f"case {case.id} was already sent to the platform"):
        undo_last(session, user_id=alice.id, now=NOW + timedelta(seconds=5))
    session.rollback()
    assert session.get(Case, case.id) is not None and item.status == "confirmed"


def test_undo_window_owner_and_kind_are_checked(session: Session) -> None:
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    admin = make_user(session, "root", role="admin")
    first, second = make_candidates(session, 2)
    reject(session, candidate_id=first.id, user_id=alice.id, reason="false_detection", now=NOW)
    reject(session, candidate_id=second.id, user_id=alice.id, reason="other", now=NOW)
    session.commit()
    rejection = action_of(session, first.id, "reject")

    late = NOW + timedelta(seconds=UNDO_WINDOW_S + 1)
    with pytest.raises(Conflict, match="undo is possible for 60 s"):
        undo(session, action_id=rejection.id, user_id=alice.id, now=late)
    with pytest.raises(NotFound, match="nothing of yours to undo"):
        undo_last(session, user_id=alice.id, now=late)
    with pytest.raises(Forbidden, match="only they or an admin"):
        undo(session, action_id=rejection.id, user_id=bob.id, now=NOW)
    with pytest.raises(NotFound, match="review action 999999999"):
        undo(session, action_id=999_999_999, user_id=alice.id, now=NOW)

    assert undo(session, action_id=rejection.id, user_id=admin.id, now=NOW).status == "open"
    assert first.claimed_by_id == admin.id
    claim = claim_next(session, user_id=bob.id, now=NOW)
    assert claim is None, "the only open item is the one the admin holds now"


def test_claims_cannot_be_undone(session: Session) -> None:
    alice = make_user(session, "alice")
    make_candidates(session, 1)
    claimed = claim_next(session, user_id=alice.id, now=NOW)
    assert claimed is not None

    with pytest.raises(Invalid, match="a claim cannot be undone"):
        undo(session, action_id=action_of(session, claimed.id, "claim").id, user_id=alice.id, now=NOW)


def test_undo_of_a_rejection_removes_the_hard_negative(session: Session) -> None:
    alice = make_user(session, "alice")
    (item,) = make_candidates(session, 1)
    reject(session, candidate_id=item.id, user_id=alice.id, reason="false_detection", now=NOW)

    undo_last(session, user_id=alice.id, now=NOW)

    assert item.status == "open" and last_undoable(session, user_id=alice.id, now=NOW) is None
    assert hard_negatives(session) == []


def test_relabels_are_undone_newest_first(session: Session) -> None:
    alice = make_user(session, "alice")
    (item,) = make_candidates(session, 1)
    relabel(session, candidate_id=item.id, user_id=alice.id, class_name="banner", now=NOW)
    first = action_of(session, item.id, "relabel")
    relabel(session, candidate_id=item.id, user_id=alice.id, class_name="shed", now=NOW + timedelta(seconds=1))

    with pytest.raises(Conflict, match="undo the later relabel"):
        undo(session, action_id=first.id, user_id=alice.id, now=NOW + timedelta(seconds=2))
    undo_last(session, user_id=alice.id, now=NOW + timedelta(seconds=2))
    assert (item.class_name, item.event_code) == ("banner", "0202")
    undo_last(session, user_id=alice.id, now=NOW + timedelta(seconds=3))
    assert (item.class_name, item.violation_type, item.event_code) == ("vendor_stall", "street_occupation", "0501")


def test_undo_of_a_merge_puts_sightings_and_counts_back(session: Session) -> None:
    alice = make_user(session, "alice")
    target, source, other = make_candidates(session, 3)
    add_sighting(session, source, track_key="s1", frame_path="s.jpg")
    add_sighting(session, target, track_key="t1")
    before = (target.sightings_count, target.first_seen, target.last_seen, target.score)
    merge(session, source_id=source.id, target_id=target.id, user_id=alice.id, now=NOW)
    merge(session, source_id=other.id, target_id=target.id, user_id=alice.id, now=NOW + timedelta(seconds=1))
    session.commit()

    with pytest.raises(Conflict, match="undo the later merge"):
        undo(session, action_id=action_of(session, source.id, "merge").id, user_id=alice.id, now=NOW)
    undo_last(session, user_id=alice.id, now=NOW + timedelta(seconds=2))
    back = undo_last(session, user_id=alice.id, now=NOW + timedelta(seconds=3))
    session.commit()

    assert back.id == source.id and (source.status, source.merged_into_id, source.sightings_count) == ("open", None, 1)
    assert (target.sightings_count, target.first_seen, target.last_seen, target.score) == before
    assert session.scalars(select(Sighting.candidate_id).where(Sighting.track_key == "s1")).one() == source.id
