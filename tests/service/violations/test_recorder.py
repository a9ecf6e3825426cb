"""Recording observations: sightings, de-duplication by place and time, idempotency, cases, evidence."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from pathlib import Path

import pytest
from factories.database import created_engine
from factories.observations import T0, accept, make_observation, place, reject
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from service.db import session_factory
from service.db.models import Camera, Candidate, Case, Evidence, Sighting
from service.geo import distance_m
from service.violations.dedup import DedupSettings
from service.violations.observation import Observation
from service.violations.recorder import NOT_LOCATED, Recorder, Recording
from service.violations.records import EvidenceRecord, Recorded
from service.violations.verdicts import ClassVerdict
from vision.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()


def record(
    engine: Engine, *observations: Observation, recorder: Recorder | None = None, verdict: ClassVerdict | None = None
) -> list[Recorded]:
    """Record each observation (accepted for its class's type unless ``verdict`` is given), committing each."""
    recorder = recorder or Recorder()
    outcomes = []
    with session_factory(engine)() as session:
        for observation in observations:
            outcomes.append(recorder.record(session, observation, verdict or accept(_type_of(observation))))
            session.commit()
    return outcomes


def _type_of(observation: Observation) -> str:
    return TAXONOMY.violation_of(observation.class_name).key


def candidates(engine: Engine) -> list[Candidate]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(Candidate).order_by(Candidate.id)))


def test_nearby_sightings_attach_and_count(engine: Engine) -> None:
    outcomes = record(
        engine,
        make_observation("a", minutes=0, score=0.5),
        make_observation("b", north_m=12, minutes=30, score=0.9),
        make_observation("c", east_m=-8, minutes=60, score=0.7),
    )
    assert [outcome.action for outcome in outcomes] == ["opened", "attached", "attached"]
    assert len({outcome.candidate_id for outcome in outcomes}) == 1
    (candidate,) = candidates(engine)
    assert candidate.sightings_count == 3
    assert candidate.score == 0.9
    assert candidate.first_seen == T0
    assert candidate.last_seen == T0 + timedelta(minutes=60)
    assert (candidate.violation_type, candidate.event_code, candidate.status) == ("street_occupation", "0501", "open")
    with session_factory(engine)() as session:
        sightings = session.scalars(select(Sighting).order_by(Sighting.id)).all()
    assert [s.candidate_id for s in sightings] == [candidate.id] * 3
    assert {s.status for s in sightings} == {"candidate"}


@pytest.mark.parametrize(
    ("violation_type", "distance_m", "accuracy_m", "attaches"),
    [
        ("street_occupation", 7.0, 3.0, True),  # default radius 8 m
        ("street_occupation", 9.0, 3.0, False),
        ("street_occupation", 45.0, None, True),  # no stated accuracy: 50 m
        ("street_occupation", 55.0, None, False),
        ("illegal_construction", 15.0, 3.0, True),  # configured 20 m
        ("illegal_construction", 25.0, 3.0, False),
        ("illegal_advertising", 95.0, 3.0, True),  # configured 100 m
        ("illegal_advertising", 105.0, None, False),
    ],
)
def test_radius_per_violation_type(
    engine: Engine, violation_type: str, distance_m: float, accuracy_m: float | None, attaches: bool
) -> None:
    settings = DedupSettings(
        radius_m={"street_occupation": 8.0, "illegal_construction": 20.0, "illegal_advertising": 100.0}
    )
    recorder = Recorder(settings)
    first = make_observation("a", violation_type=violation_type, accuracy_m=accuracy_m)
    second = make_observation("b", east_m=distance_m, minutes=5, violation_type=violation_type, accuracy_m=accuracy_m)
    outcomes = record(engine, first, second, recorder=recorder)
    assert outcomes[1].action == ("attached" if attaches else "opened")
    assert len(candidates(engine)) == (1 if attaches else 2)


def test_default_radii_keep_close_advertising_apart(engine: Engine) -> None:
    # Two banners 7 m apart seen on different days: two violations; one of them again 3 m off: the same.
    outcomes = record(
        engine,
        make_observation("a", violation_type="illegal_advertising", accuracy_m=5.5),
        make_observation("b", east_m=7, minutes=60 * 24 * 3, violation_type="illegal_advertising", accuracy_m=5.5),
        make_observation("c", east_m=10, minutes=60 * 24 * 6, violation_type="illegal_advertising", accuracy_m=5.5),
    )
    assert [o.action for o in outcomes] == ["opened", "opened", "attached"]
    assert outcomes[2].candidate_id == outcomes[1].candidate_id


def test_types_never_mix(engine: Engine) -> None:
    record(
        engine,
        make_observation("a", violation_type="street_occupation"),
        make_observation("b", minutes=1, violation_type="illegal_advertising"),
    )
    assert sorted(c.violation_type for c in candidates(engine)) == ["illegal_advertising", "street_occupation"]


@pytest.mark.parametrize("gap_hours", [0.5, 30, 24 * 7, 24 * 90])
def test_an_open_candidate_takes_sightings_at_any_age(engine: Engine, gap_hours: float) -> None:
    # Reviewers see one item per violation however long it waits in the queue.
    recorder = Recorder(DedupSettings(window=timedelta(hours=24)))
    outcomes = record(
        engine,
        make_observation("a", minutes=0, duration_minutes=30),
        make_observation("b", north_m=5, minutes=30 + gap_hours * 60),
        recorder=recorder,
    )
    assert outcomes[1].action == "attached"
    (candidate,) = candidates(engine)
    assert candidate.last_seen == T0 + timedelta(minutes=30 + gap_hours * 60)


def _make_case(engine: Engine, candidate_id: int, stage: str, status: str = "confirmed") -> None:
    with session_factory(engine)() as session:
        candidate = session.get(Candidate, candidate_id)
        assert candidate is not None
        candidate.status = status
        session.add(
            Case(
                candidate_id=candidate_id,
                event_code=candidate.event_code,
                violation_type=candidate.violation_type,
                lat=candidate.lat,
                lon=candidate.lon,
                stage=stage,
            )
        )
        session.commit()


@pytest.mark.parametrize(
    ("stage", "days", "attaches"),
    [
        ("dispatched", 10, True),
        ("accepted", 10, True),
        ("closed", 10, False),
        ("void", 10, False),
        ("closed", 0.5, True),
    ],
)
def test_open_case_takes_sightings_beyond_the_window(engine: Engine, stage: str, days: float, attaches: bool) -> None:
    (first,) = record(engine, make_observation("a"))
    assert first.candidate_id is not None
    _make_case(engine, first.candidate_id, stage)
    (later,) = record(engine, make_observation("b", east_m=5, minutes=days * 24 * 60))
    assert later.action == ("attached" if attaches else "opened")
    assert (later.candidate_id == first.candidate_id) is attaches
    assert candidates(engine)[0].status == "confirmed"


def _set_status(engine: Engine, candidate_id: int | None, status: str) -> None:
    with session_factory(engine)() as session:
        candidate = session.get(Candidate, candidate_id)
        assert candidate is not None
        candidate.status = status
        session.commit()


@pytest.mark.parametrize(
    ("window_hours", "gap_hours", "absorbs"), [(24, 0.1, True), (24, 23.5, True), (24, 24.5, False), (2, 3, False)]
)
@pytest.mark.parametrize("status", ["rejected", "closed"])
def test_a_decided_candidate_absorbs_sightings_within_the_window(
    engine: Engine, status: str, window_hours: float, gap_hours: float, absorbs: bool
) -> None:
    recorder = Recorder(DedupSettings(window=timedelta(hours=window_hours)))
    (first,) = record(engine, make_observation("a", minutes=0, duration_minutes=30, score=0.5), recorder=recorder)
    _set_status(engine, first.candidate_id, status)
    (before,) = candidates(engine)
    (later,) = record(
        engine, make_observation("b", east_m=3, minutes=30 + gap_hours * 60, score=0.9), recorder=recorder
    )
    assert later.action == ("attached" if absorbs else "opened")
    assert (later.candidate_id == first.candidate_id) is absorbs
    after = candidates(engine)[0]
    # Counted on it, nothing else: still decided (not queued again), same place, span and score.
    assert after.sightings_count == (2 if absorbs else 1)
    assert (after.status, after.lat, after.lon, after.last_seen, after.score) == (
        before.status,
        before.lat,
        before.lon,
        before.last_seen,
        before.score,
    )


def test_a_decided_candidate_absorbs_only_within_the_window_from_before_the_decision(engine: Engine) -> None:
    # Absorbing does not move last_seen, so a detection that keeps coming back is shown again after the window.
    (first,) = record(engine, make_observation("a"))
    _set_status(engine, first.candidate_id, "rejected")
    hourly = [make_observation(f"h{hour}", east_m=1, minutes=60 * hour) for hour in range(1, 27, 5)]
    outcomes = record(engine, *hourly)
    assert [o.action for o in outcomes] == ["attached"] * 5 + ["opened"]
    open_ones = [c for c in candidates(engine) if c.status == "open"]
    assert [c.id for c in open_ones] == [outcomes[-1].candidate_id]


def test_merged_candidates_take_nothing(engine: Engine) -> None:
    (first,) = record(engine, make_observation("a"))
    _set_status(engine, first.candidate_id, "merged")
    (later,) = record(engine, make_observation("b", east_m=3, minutes=5))
    assert later.action == "opened"


def test_class_must_match(engine: Engine) -> None:
    # Goods outside a shop and a vendor's stall at one spot are two street-occupation violations.
    stall = make_observation("a", accuracy_m=3.0)
    goods = make_observation("b", east_m=1, minutes=60, accuracy_m=3.0, class_name="goods_outside_shop")
    outcomes = record(engine, stall, goods)
    assert [o.action for o in outcomes] == ["opened", "opened"]
    by_type = Recorder(DedupSettings(match_class=False))
    (again,) = record(
        engine, make_observation("c", east_m=0.5, minutes=120, class_name="material_pile"), recorder=by_type
    )
    assert again.action == "attached"


def test_a_relabelled_candidate_matches_its_new_class(engine: Engine) -> None:
    (first,) = record(engine, make_observation("a", accuracy_m=3.0))
    with session_factory(engine)() as session:
        candidate = session.get(Candidate, first.candidate_id)
        assert candidate is not None
        candidate.class_name = "goods_outside_shop"  # what the review's relabel does
        session.commit()
    outcomes = record(
        engine,
        make_observation("b", east_m=1, minutes=60, accuracy_m=3.0, class_name="goods_outside_shop"),
        make_observation("c", east_m=1, minutes=90, accuracy_m=3.0),
    )
    assert [o.action for o in outcomes] == ["attached", "opened"]
    assert outcomes[0].candidate_id == first.candidate_id


def test_recording_twice_changes_nothing(engine: Engine) -> None:
    observation = make_observation("track-7")
    (first,) = record(engine, observation)
    (again,) = record(engine, observation)
    assert again == Recorded(first.sighting_id, "duplicate", first.candidate_id, None)
    (candidate,) = candidates(engine)
    assert candidate.sightings_count == 1
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 1


def test_a_repeat_within_one_batch_is_a_duplicate(engine: Engine) -> None:
    observation = make_observation("track-7")
    with session_factory(engine)() as session:
        outcomes = Recorder().record_many(session, [Recording(observation, accept()), Recording(observation, accept())])
        session.commit()
    assert [o.action for o in outcomes] == ["opened", "duplicate"]
    assert outcomes[0].sighting_id == outcomes[1].sighting_id
    assert candidates(engine)[0].sightings_count == 1


def test_two_objects_in_one_frame_are_two_candidates(engine: Engine) -> None:
    # Two stalls 4 m apart in the same frames of one patrol video: seen together, so two objects.
    left = make_observation("1", minutes=0, duration_minutes=2)
    right = make_observation("2", east_m=4, minutes=1, duration_minutes=2)
    outcomes = record(engine, left, right)
    assert [o.action for o in outcomes] == ["opened", "opened"]
    # The next pass sees each again, apart in time: each attaches to its own candidate, the nearest.
    later = record(
        engine,
        make_observation("3", east_m=0.5, minutes=60),
        make_observation("4", east_m=4.5, minutes=61, source="patrol-1"),
    )
    assert [o.candidate_id for o in later] == [outcomes[0].candidate_id, outcomes[1].candidate_id]


def test_two_objects_in_one_frame_inside_one_batch(engine: Engine) -> None:
    with session_factory(engine)() as session:
        outcomes = Recorder().record_many(
            session,
            [Recording(make_observation("1"), accept()), Recording(make_observation("2", east_m=4), accept())],
        )
        session.commit()
    assert [o.action for o in outcomes] == ["opened", "opened"]


def test_another_source_at_the_same_moment_attaches(engine: Engine) -> None:
    # Two cameras looking at one stall at once see one object.
    outcomes = record(engine, make_observation("1", source="cam-1"), make_observation("1", east_m=3, source="cam-2"))
    assert [o.action for o in outcomes] == ["opened", "attached"]


def test_dropped_sightings_keep_their_reason(engine: Engine) -> None:
    (dropped,) = record(engine, make_observation("a"), verdict=reject("permit 12 covers it"))
    (unlocated,) = record(engine, make_observation("b", located=False))
    assert dropped.action == unlocated.action == "dropped"
    assert dropped.drop_reason == "permit 12 covers it"
    assert unlocated.drop_reason == NOT_LOCATED
    assert candidates(engine) == []
    with session_factory(engine)() as session:
        rows = session.scalars(select(Sighting).order_by(Sighting.id)).all()
    assert [(r.status, r.drop_reason, r.candidate_id) for r in rows] == [
        ("dropped", "permit 12 covers it", None),
        ("dropped", NOT_LOCATED, None),
    ]


def test_position_is_the_accuracy_weighted_mean(engine: Engine) -> None:
    record(
        engine,
        make_observation("a", north_m=0, accuracy_m=5.0),
        make_observation("b", north_m=7.5, accuracy_m=10.0, minutes=1),
    )
    (candidate,) = candidates(engine)
    # Weights 1/25 and 1/100: the mean lies 7.5 * (1/100) / (1/25 + 1/100) = 1.5 m north of the first.
    expected = place(north_m=1.5)
    assert distance_m(candidate.lat, candidate.lon, *expected) < 0.01
    assert candidate.accuracy_m == pytest.approx((1 / 25 + 1 / 100) ** -0.5)


def test_evidence_is_kept_with_the_candidate(engine: Engine) -> None:
    frame = EvidenceRecord("frame", "2026/05/01/a.jpg", hashlib.sha256(b"a").hexdigest(), T0)
    crop = EvidenceRecord("crop", "2026/05/01/a-crop.jpg", hashlib.sha256(b"b").hexdigest(), T0)
    with session_factory(engine)() as session:
        outcome = Recorder().record(session, make_observation("a"), accept(), evidence=[frame, crop])
        dropped = Recorder().record(session, make_observation("b"), reject(), evidence=[frame])
        session.commit()
        rows = session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert dropped.candidate_id is None
    assert [(r.kind, r.path, r.candidate_id, r.sighting_id) for r in rows] == [
        ("frame", frame.path, outcome.candidate_id, outcome.sighting_id),
        ("crop", crop.path, outcome.candidate_id, outcome.sighting_id),
    ]


def test_camera_key_is_resolved(engine: Engine) -> None:
    with session_factory(engine)() as session:
        session.add(Camera(key="cam-012", kind="fixed"))
        session.commit()
        camera_id = session.scalar(select(Camera.id))
    observation = make_observation("a")
    known = Observation(**{**observation.__dict__, "camera_key": "cam-012"})
    unknown = Observation(**{**observation.__dict__, "track_key": "b", "camera_key": "cam-999"})
    record(engine, known, unknown)
    with session_factory(engine)() as session:
        assert session.scalars(select(Sighting.camera_id).order_by(Sighting.id)).all() == [camera_id, None]
        assert session.scalar(select(Candidate.camera_id)) == camera_id


def _scenario(seed: int) -> list[Observation]:
    rng = random.Random(seed)
    made = []
    for index in range(120):
        spot = rng.randrange(12)
        made.append(
            make_observation(
                f"k{index % 100}",  # some keys repeat: duplicates
                north_m=(spot // 4) * 70 + rng.gauss(0, 12),
                east_m=(spot % 4) * 70 + rng.gauss(0, 12),
                minutes=rng.choice([0, 0, 1, 30, 60, 2000]),
                source=rng.choice(["patrol-1", "patrol-2"]),
                violation_type=rng.choice(["street_occupation", "illegal_advertising"]),
                accuracy_m=rng.choice([None, 3.0, 8.0]),
                score=rng.random(),
            )
        )
    return made


def _state(session: Session) -> tuple[list[tuple], list[tuple]]:
    found = session.execute(
        select(
            Candidate.violation_type,
            func.round(Candidate.lat, 9),
            func.round(Candidate.lon, 9),
            Candidate.sightings_count,
            Candidate.score,
        ).order_by(Candidate.id)
    ).all()
    links = session.execute(select(Sighting.track_key, Sighting.source, Sighting.candidate_id).order_by(Sighting.id))
    return [tuple(row) for row in found], [tuple(row) for row in links]


def _decide_some(session: Session) -> None:
    """Reject every third candidate and close every third but one, as reviewers would between batches."""
    for candidate in session.scalars(select(Candidate)):
        candidate.status = {0: "rejected", 1: "closed"}.get(candidate.id % 3, candidate.status)
    session.flush()


@pytest.mark.parametrize("decide", [False, True])
def test_record_many_equals_recording_one_by_one(tmp_path: Path, decide: bool) -> None:
    observations = _scenario(3)
    recordings = [Recording(o, accept(_type_of(o))) for o in observations]
    with created_engine("sqlite", tmp_path) as one_by_one, created_engine("sqlite", tmp_path) as batched:
        with session_factory(one_by_one)() as session:
            recorder = Recorder()
            singles = [recorder.record(session, r.observation, r.verdict) for r in recordings[:50]]
            if decide:
                _decide_some(session)
            singles += [recorder.record(session, r.observation, r.verdict) for r in recordings[50:]]
            session.commit()
            expected = _state(session)
        with session_factory(batched)() as session:
            recorder = Recorder()
            many = recorder.record_many(session, recordings[:50])
            if decide:
                _decide_some(session)
            many += recorder.record_many(session, recordings[50:])
            session.commit()
            assert _state(session) == expected
    assert many == singles
    assert {o.action for o in singles} == {"opened", "attached", "duplicate"}
