"""Persistence, score, context and unknown classes: what is dropped before zones and permits are looked at."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from service.rules import UNLOCATED_REASON, Persistence, RuleBook, RuleSettings, Verdict
from service.violations.observation import Observation
from vision.taxonomy import Taxonomy

Observe = Callable[..., Observation]


@pytest.fixture(scope="module")
def rules(taxonomy: Taxonomy) -> RuleBook:
    return RuleBook(taxonomy=taxonomy)


@pytest.mark.parametrize(
    ("class_name", "kind", "needed"),
    [
        ("vendor_stall", "fixed", 180),
        ("goods_outside_shop", "fixed", 180),
        ("material_pile", "fixed", 120),
        ("banner", "fixed", 120),
        ("ad_board", "fixed", 120),
        ("shed", "fixed", 120),
        ("vendor_stall", "ptz", 60),
        ("signboard", "ptz", 60),
    ],
)
def test_dwell_threshold_per_class_and_camera_kind(
    rules: RuleBook, observe: Observe, class_name: str, kind: str, needed: float
) -> None:
    short = rules.judge(observe(class_name, dwell_s=needed - 1, kind=kind))
    enough = rules.judge(observe(class_name, dwell_s=needed, kind=kind))
    assert not short.accepted
    assert short.reason is not None
    assert f"needs {needed} s" in short.reason and class_name in short.reason
    assert enough.accepted


@pytest.mark.parametrize(("frames", "accepted"), [(1, False), (2, False), (3, True), (40, True)])
def test_patrol_video_needs_three_frames_whatever_the_dwell(
    rules: RuleBook, observe: Observe, frames: int, accepted: bool
) -> None:
    verdict = rules.judge(observe("banner", kind="patrol", frames=frames, dwell_s=0.0))
    assert verdict.accepted is accepted
    if not accepted:
        assert verdict.reason == f"seen in {frames} frame(s) of patrol video; banner needs 3"


def test_external_detections_skip_dwell_and_frames_but_keep_the_score_rule(rules: RuleBook, observe: Observe) -> None:
    assert rules.judge(observe("vendor_stall", kind=None, frames=1, dwell_s=0.0, score=0.5)).accepted
    low = rules.judge(observe("vendor_stall", kind=None, frames=1, dwell_s=0.0, score=0.1))
    assert not low.accepted
    assert low.reason == "score 0.10 is below 0.25 for vendor_stall"


def test_a_nan_score_is_dropped(rules: RuleBook, observe: Observe) -> None:
    verdict = rules.judge(observe("banner", score=float("nan")))
    assert not verdict.accepted
    assert verdict.reason is not None and verdict.reason.startswith("score nan")


@pytest.mark.parametrize("kind", ["fixed", "ptz", "patrol", None])
def test_score_rule_applies_to_every_camera_kind(taxonomy: Taxonomy, observe: Observe, kind: str | None) -> None:
    strict = Persistence(fixed_dwell_seconds=0, ptz_dwell_seconds=0, patrol_frames=1, min_score=0.6)
    rules = RuleBook(RuleSettings(persistence={"poster": strict}), taxonomy=taxonomy)
    assert not rules.judge(observe("poster", kind=kind, score=0.59)).accepted
    assert rules.judge(observe("poster", kind=kind, score=0.6)).accepted
    assert rules.judge(observe("banner", kind=kind, score=0.59)).accepted  # other classes keep the defaults


def test_context_classes_are_never_candidates(taxonomy_with_context: Taxonomy, observe: Observe) -> None:
    rules = RuleBook(taxonomy=taxonomy_with_context)
    verdict = rules.judge(observe("window", dwell_s=86_400, score=1.0))
    assert verdict == Verdict(False, "window is scene context, never a violation", "context", None)


def test_unknown_classes_are_dropped_with_the_reason(rules: RuleBook, observe: Observe) -> None:
    verdict = rules.judge(observe("car", kind=None))
    assert not verdict.accepted
    assert verdict.reason is not None and "'car' is not in the taxonomy" in verdict.reason
    assert verdict.violation_type is None and verdict.event_code is None


@pytest.mark.parametrize(
    ("class_name", "violation_type", "event_code"),
    [
        ("vendor_stall", "street_occupation", "0501"),
        ("goods_outside_shop", "street_occupation", "0504"),
        ("poster", "illegal_advertising", "0201"),
        ("win_ad", "illegal_advertising", "0202"),
        ("shed", "illegal_construction", "0101"),
    ],
)
def test_accepted_verdicts_carry_type_and_code_from_the_taxonomy(
    rules: RuleBook, observe: Observe, class_name: str, violation_type: str, event_code: str
) -> None:
    verdict = rules.judge(observe(class_name, where=(31.0, 121.0)))
    assert verdict == Verdict(True, None, violation_type, event_code)


def test_dropped_verdicts_keep_type_and_code_for_statistics(rules: RuleBook, observe: Observe) -> None:
    verdict = rules.judge(observe("vendor_stall", dwell_s=10))
    assert (verdict.accepted, verdict.violation_type, verdict.event_code) == (False, "street_occupation", "0501")


def test_without_a_location_it_is_accepted_and_says_zones_and_permits_were_not_checked(
    rules: RuleBook, observe: Observe
) -> None:
    verdict = rules.judge(observe("banner", where=None))
    assert verdict == Verdict(True, UNLOCATED_REASON, "illegal_advertising", "0202")


def test_persistence_still_applies_without_a_location(rules: RuleBook, observe: Observe) -> None:
    assert not rules.judge(observe("banner", where=None, dwell_s=5)).accepted


@pytest.mark.parametrize(
    "changes",
    [
        {"fixed_dwell_seconds": -1},
        {"patrol_frames": 0},
        {"patrol_frames": 2.5},
        {"min_score": 1.5},
    ],
)
def test_persistence_rejects_nonsense(changes: dict[str, float]) -> None:
    values = {"fixed_dwell_seconds": 1, "ptz_dwell_seconds": 1, "patrol_frames": 1, "min_score": 0.5} | changes
    with pytest.raises(ValueError):
        Persistence(**values)  # type: ignore[arg-type]


def test_settings_reject_an_unknown_time_zone() -> None:
    with pytest.raises(ValueError, match="Asia/Shanghia"):
        RuleSettings(timezone="Asia/Shanghia")


def test_a_flicker_seen_in_few_of_the_frames_tracked_is_dropped_on_a_fixed_camera(
    taxonomy: Taxonomy, observe: Observe
) -> None:
    fallback = Persistence(fixed_dwell_seconds=120.0, ptz_dwell_seconds=60.0, patrol_frames=3, min_score=0.25)
    rules = RuleBook(RuleSettings(fallback=replace(fallback, fixed_coverage=0.3)), taxonomy=taxonomy)
    flicker = rules.judge(observe("ad_board", kind="fixed", dwell_s=168.0, frames=12, tracked=337))
    assert not flicker.accepted
    assert flicker.reason == (
        "detected in 12 of the 337 frames tracked over its 168 s on a fixed camera (4%); ad_board needs 30%"
    )
    assert rules.judge(observe("ad_board", kind="fixed", dwell_s=168.0, frames=102, tracked=337)).accepted
    assert rules.judge(observe("ad_board", kind="fixed", dwell_s=168.0, frames=12, tracked=None)).accepted  # unknown


def test_a_ptz_tour_is_not_asked_for_coverage(taxonomy: Taxonomy, observe: Observe) -> None:
    """Back at a preset within two minutes, a tour makes one sighting of the object across visits, tracked also
    while the camera looked elsewhere: detected in a third of those frames is what standing there looks like."""
    fallback = Persistence(fixed_dwell_seconds=120.0, ptz_dwell_seconds=60.0, patrol_frames=3, min_score=0.25)
    rules = RuleBook(RuleSettings(fallback=replace(fallback, fixed_coverage=0.5)), taxonomy=taxonomy)
    assert rules.judge(observe("ad_board", kind="ptz", dwell_s=300.0, frames=200, tracked=601)).accepted


def test_coverage_is_not_asked_of_patrol_video_or_external_detections(taxonomy: Taxonomy, observe: Observe) -> None:
    fallback = Persistence(fixed_dwell_seconds=120.0, ptz_dwell_seconds=60.0, patrol_frames=3, min_score=0.25)
    rules = RuleBook(RuleSettings(fallback=replace(fallback, fixed_coverage=0.9)), taxonomy=taxonomy)
    assert rules.judge(observe("banner", kind="patrol", frames=3, dwell_s=20.0, tracked=100)).accepted
    assert rules.judge(observe("banner", kind=None, frames=1, dwell_s=0.0, tracked=100)).accepted


def test_coverage_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="fixed_coverage"):
        Persistence(fixed_dwell_seconds=1.0, ptz_dwell_seconds=1.0, patrol_frames=1, min_score=0.1, fixed_coverage=1.5)
