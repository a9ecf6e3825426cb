"""The platform's callback: stages forward only, 作废 from any open stage, repeats acknowledged, clear errors."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from factories.review import NOW, make_candidates, make_user
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.cases import apply_callback, get_case, list_cases, stage_key
from service.db.models import Case, CaseEvent, OutboxMessage
from service.errors import Conflict, Invalid, NotFound
from service.review import CaseFields, confirm


def make_case(session: Session, *, district: str | None = None) -> Case:
    user = make_user(session, f"reviewer-{uuid.uuid4().hex[:8]}")
    (candidate,) = make_candidates(session, 1)
    case = confirm(session, candidate_id=candidate.id, user_id=user.id, fields=CaseFields(district=district), now=NOW)
    session.commit()
    return case


def stages_of(session: Session, case: Case) -> list[str]:
    return list(session.scalars(select(CaseEvent.stage).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def test_the_full_flow_is_recorded_with_times(session: Session) -> None:
    case = make_case(session)
    flow = ["立案", "派遣", "处置", "核查", "结案"]
    for step, stage in enumerate(flow, start=1):
        result = apply_callback(session, case_id=case.id, stage=stage, at=NOW + timedelta(hours=step))
        assert result.applied and result.case.stage == stage_key(stage)
    session.commit()

    assert stages_of(session, case) == ["accepted", "registered", "dispatched", "handled", "verified", "closed"]
    view = get_case(session, case_id=case.id)
    assert view.stage_name == "结案" and view.events[-1].at == NOW + timedelta(hours=5)
    with pytest.raises(Conflict, match="final stage"):
        apply_callback(session, case_id=case.id, stage="void", at=NOW + timedelta(hours=6))


def test_a_repeated_callback_is_acknowledged_without_change(session: Session) -> None:
    case = make_case(session)
    first = apply_callback(session, case_id=case.id, stage="registered", at=NOW, payload={"n": 1})
    apply_callback(session, case_id=case.id, stage="dispatched", at=NOW + timedelta(minutes=1))
    session.commit()

    again = apply_callback(session, case_id=case.id, stage="立案", at=NOW + timedelta(minutes=5), payload={"n": 2})
    assert not again.applied and again.event.id == first.event.id and again.event.payload == {"n": 1}
    assert apply_callback(session, case_id=case.id, stage="accepted").applied is False
    assert stages_of(session, case) == ["accepted", "registered", "dispatched"]


def test_stages_may_be_skipped_but_never_go_back(session: Session) -> None:
    case = make_case(session)
    apply_callback(session, case_id=case.id, stage="dispatched", at=NOW)

    with pytest.raises(Conflict, match=r"dispatched \(派遣\); registered \(立案\) would go backwards"):
        apply_callback(session, case_id=case.id, stage="registered", at=NOW)


def test_void_from_any_open_stage_and_nothing_after_it(session: Session) -> None:
    case = make_case(session)
    apply_callback(session, case_id=case.id, stage="handled", at=NOW)
    assert apply_callback(session, case_id=case.id, stage="作废", at=NOW).case.stage == "void"

    with pytest.raises(Conflict, match=r"void \(作废\), a final stage"):
        apply_callback(session, case_id=case.id, stage="verified", at=NOW)


def test_the_platform_number_is_stored_and_then_finds_the_case(session: Session) -> None:
    case = make_case(session)
    apply_callback(session, case_id=case.id, platform_case_id="SH-2026-0001", stage="registered", at=NOW)
    session.commit()

    result = apply_callback(session, platform_case_id="SH-2026-0001", stage="dispatched", at=NOW)
    assert result.case.id == case.id and result.case.platform_case_id == "SH-2026-0001"
    with pytest.raises(Conflict, match="is platform case 'SH-2026-0001'"):
        apply_callback(session, case_id=case.id, platform_case_id="OTHER", stage="handled", at=NOW)


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"case_id": 1, "stage": "teleported"}, Invalid, "stage"),
        ({"stage": "registered"}, Invalid, "case_id"),
        ({"case_id": 1, "stage": "registered", "at": NOW.replace(tzinfo=None)}, Invalid, "at"),
        ({"case_id": 1, "stage": "registered", "payload": ["x"]}, Invalid, "payload"),
        ({"case_id": 424_242_424, "stage": "registered"}, NotFound, None),
        ({"platform_case_id": "nope", "stage": "registered"}, NotFound, None),
    ],
)
def test_bad_callbacks_get_clear_errors(
    session: Session, kwargs: dict[str, object], error: type[Exception], field: str | None
) -> None:
    make_case(session)
    with pytest.raises(error) as caught:
        apply_callback(session, **kwargs)  # type: ignore[arg-type]
    assert getattr(caught.value, "field", None) == field
    if error is NotFound:
        assert "does not exist" in str(caught.value)


def test_a_new_stage_can_be_announced_through_the_outbox(session: Session) -> None:
    case = make_case(session)
    result = apply_callback(session, case_id=case.id, stage="registered", at=NOW, announce=("mqtt",))
    session.commit()

    mqtt = session.scalars(select(OutboxMessage).where(OutboxMessage.target == "mqtt")).all()
    assert [(m.case_id, m.payload["stage"], m.payload["event_id"]) for m in mqtt] == [
        (case.id, "registered", result.event.id)
    ]


def test_cases_are_listed_with_their_posting_state(session: Session) -> None:
    sent, pending, dispatched = (make_case(session, district=d) for d in ("黄浦区", "黄浦区", "静安区"))
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == sent.id)).one()
    message.state = "sent"
    apply_callback(session, case_id=dispatched.id, stage="派遣", at=NOW)
    session.commit()

    page = list_cases(session)
    assert [item.id for item in page.items] == [dispatched.id, pending.id, sent.id] and page.count == 3
    assert {item.id: item.posting.state for item in page.items} == {
        sent.id: "sent",
        pending.id: "pending",
        dispatched.id: "pending",
    }
    assert [c.id for c in list_cases(session, posting="sent").items] == [sent.id]
    assert list_cases(session, posting="dead").count == 0 and list_cases(session, posting="none").count == 0
    assert [c.id for c in list_cases(session, stage="派遣").items] == [dispatched.id]
    assert list_cases(session, district="黄浦区", limit=1).count == 2
    with pytest.raises(Invalid):
        list_cases(session, posting="lost")
    with pytest.raises(NotFound):
        get_case(session, case_id=424_242_424)


def test_simultaneous_deliveries_of_one_callback_record_one_event(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        case_id = make_case(session).id
    start = threading.Barrier(4)

    def deliver() -> bool:
        start.wait()
        with sessions() as session:
            result = apply_callback(session, case_id=case_id, stage="registered", at=NOW)
            session.commit()
            return result.applied

    with ThreadPoolExecutor(4) as pool:
        applied = [future.result(timeout=60) for future in [pool.submit(deliver) for _ in range(4)]]

    assert sorted(applied) == [False, False, False, True]
    with sessions() as session:
        assert stages_of(session, session.get(Case, case_id)) == ["accepted", "registered"]  # type: ignore[arg-type]
