"""The review queue: claims, leases that run out, one item per reviewer, release and extend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories.review import NOW, make_candidates, make_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import ReviewAction
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.review import QueueFilter, claim_next, current_claim, extend, queue_size, release


def test_claims_go_oldest_first_and_never_to_two_reviewers(session: Session) -> None:
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    oldest, second, _ = make_candidates(session, 3)
    session.commit()

    first = claim_next(session, user_id=alice.id, now=NOW)
    other = claim_next(session, user_id=bob.id, now=NOW)
    session.commit()

    assert first is not None and other is not None
    assert (first.id, other.id) == (oldest.id, second.id)
    assert first.claimed_by_id == alice.id and first.claim_expires_at == NOW + timedelta(seconds=300)
    assert queue_size(session, now=NOW) == 1
    claims = session.scalars(select(ReviewAction).where(ReviewAction.action == "claim")).all()
    assert sorted((c.candidate_id, c.user_id) for c in claims) == [(oldest.id, alice.id), (second.id, bob.id)]


def test_claiming_again_gives_back_the_held_item_with_a_fresh_lease(session: Session) -> None:
    alice = make_user(session, "alice")
    make_candidates(session, 3)
    session.commit()

    first = claim_next(session, user_id=alice.id, lease_s=60, now=NOW)
    again = claim_next(session, user_id=alice.id, lease_s=60, now=NOW + timedelta(seconds=50))
    session.commit()

    assert first is not None and again is not None and again.id == first.id
    assert again.claim_expires_at == NOW + timedelta(seconds=110)
    held = session.scalars(select(ReviewAction).where(ReviewAction.action == "claim")).all()
    assert len(held) == 1, "a reload must not leak a second claim"
    assert queue_size(session, now=NOW + timedelta(seconds=50)) == 2


def test_an_expired_lease_returns_the_item_to_the_queue(session: Session) -> None:
    alice, bob, carol = (make_user(session, name) for name in ("alice", "bob", "carol"))
    oldest, second = make_candidates(session, 2)
    session.commit()

    assert claim_next(session, user_id=alice.id, lease_s=60, now=NOW).id == oldest.id  # type: ignore[union-attr]
    assert claim_next(session, user_id=bob.id, lease_s=600, now=NOW + timedelta(seconds=30)).id == second.id  # type: ignore[union-attr]
    assert claim_next(session, user_id=carol.id, now=NOW + timedelta(seconds=59)) is None
    later = NOW + timedelta(seconds=61)
    assert current_claim(session, user_id=alice.id, now=later) is None
    comes_back = claim_next(session, user_id=carol.id, now=later)
    session.commit()

    assert comes_back is not None and comes_back.id == oldest.id and comes_back.claimed_by_id == carol.id


def test_a_late_reviewer_gets_a_new_item_not_the_one_that_was_taken(session: Session) -> None:
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    oldest, second = make_candidates(session, 2)
    session.commit()
    claim_next(session, user_id=alice.id, lease_s=60, now=NOW)
    claim_next(session, user_id=bob.id, now=NOW + timedelta(seconds=61))  # takes alice's expired item

    back = claim_next(session, user_id=alice.id, now=NOW + timedelta(seconds=62))

    assert back is not None and back.id == second.id
    assert current_claim(session, user_id=bob.id, now=NOW + timedelta(seconds=62)).id == oldest.id  # type: ignore[union-attr]


def test_filters_choose_items_and_changing_them_releases_the_held_one(session: Session) -> None:
    alice = make_user(session, "alice")
    (stall,) = make_candidates(session, 1)
    (banner,) = make_candidates(
        session, 1, class_name="banner", violation_type="illegal_advertising", event_code="0202", score=0.95
    )
    session.commit()

    ads = QueueFilter(violation_types=("illegal_advertising",))
    assert claim_next(session, user_id=alice.id, filters=ads, now=NOW).id == banner.id  # type: ignore[union-attr]
    stalls = QueueFilter(class_names=("vendor_stall",))
    switched = claim_next(session, user_id=alice.id, filters=stalls, now=NOW)
    session.commit()

    assert switched is not None and switched.id == stall.id
    session.refresh(banner)
    assert banner.claimed_by_id is None, "the item that no longer matches goes back to the queue"
    assert queue_size(session, filters=ads, now=NOW) == 1
    assert claim_next(session, user_id=alice.id, filters=QueueFilter(min_score=0.99), now=NOW) is None
    assert current_claim(session, user_id=alice.id, now=NOW) is None


def test_score_order_and_area_filter(session: Session) -> None:
    alice = make_user(session, "alice")
    make_candidates(session, 2, score=0.5)
    (best,) = make_candidates(session, 1, score=0.9, lat=40.0)
    session.commit()

    assert claim_next(session, user_id=alice.id, filters=QueueFilter(order="score"), now=NOW).id == best.id  # type: ignore[union-attr]
    assert queue_size(session, filters=QueueFilter(area=(39.0, 121.0, 41.0, 122.0)), now=NOW) == 0
    assert queue_size(session, filters=QueueFilter(area=(31.0, 121.0, 32.0, 122.0)), now=NOW) == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"order": "random"}, "order"),
        ({"area": (32.0, 121.0, 31.0, 122.0)}, "area"),
        ({"seen_after": NOW.replace(tzinfo=None)}, "seen_after"),
    ],
)
def test_bad_filters_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        QueueFilter(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_release_returns_the_item_and_only_the_holder_or_an_admin_may(session: Session) -> None:
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    admin = make_user(session, "root", role="admin")
    (item,) = make_candidates(session, 1)
    session.commit()
    claim_next(session, user_id=alice.id, now=NOW)

    with pytest.raises(Conflict, match="claimed by user"):
        release(session, candidate_id=item.id, user_id=bob.id, now=NOW)
    release(session, candidate_id=item.id, user_id=alice.id, now=NOW)
    assert item.claimed_by_id is None and queue_size(session, now=NOW) == 1
    release(session, candidate_id=item.id, user_id=bob.id, now=NOW)  # nobody holds it: nothing to do

    claim_next(session, user_id=alice.id, now=NOW)
    release(session, candidate_id=item.id, user_id=admin.id, now=NOW)
    assert item.claimed_by_id is None
    with pytest.raises(NotFound, match="candidate 999999999"):
        release(session, candidate_id=999_999_999, user_id=alice.id, now=NOW)


def test_extend_renews_a_lease_unless_someone_else_took_the_item(session: Session) -> None:
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    first, _ = make_candidates(session, 2)
    session.commit()
    claim_next(session, user_id=alice.id, lease_s=60, now=NOW)

    renewed = extend(session, candidate_id=first.id, user_id=alice.id, lease_s=120, now=NOW + timedelta(seconds=90))
    assert renewed.claim_expires_at == NOW + timedelta(seconds=210), "ran out but nobody took it: renewable"
    with pytest.raises(Conflict, match="not claimed by you"):
        extend(session, candidate_id=first.id, user_id=bob.id, now=NOW)

    claim_next(session, user_id=bob.id, now=NOW + timedelta(seconds=300))  # alice's lease ran out: bob takes it
    with pytest.raises(Conflict, match="not claimed by you"):
        extend(session, candidate_id=first.id, user_id=alice.id, now=NOW + timedelta(seconds=301))


def test_users_and_leases_are_checked(session: Session) -> None:
    retired = make_user(session, "retired", active=False)
    alice = make_user(session, "alice")
    make_candidates(session, 1)
    session.commit()

    with pytest.raises(Forbidden, match="deactivated"):
        claim_next(session, user_id=retired.id, now=NOW)
    with pytest.raises(NotFound, match="user 424242424"):
        claim_next(session, user_id=424_242_424, now=NOW)
    with pytest.raises(Invalid) as caught:
        claim_next(session, user_id=alice.id, lease_s=0, now=NOW)
    assert caught.value.field == "lease_s"


def test_decided_items_leave_the_queue(session: Session) -> None:
    alice = make_user(session, "alice")
    items = make_candidates(session, 2)
    items[0].status = "rejected"
    session.commit()

    claimed = claim_next(session, user_id=alice.id, now=NOW)
    assert claimed is not None and claimed.id == items[1].id
    assert queue_size(session, now=NOW) == 0
