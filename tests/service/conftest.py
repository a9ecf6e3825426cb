"""Fixtures shared by the service tests of several folders."""

from __future__ import annotations

import pytest
from factories.detectors import BrightnessDetector


@pytest.fixture
def fake_detector(monkeypatch: pytest.MonkeyPatch) -> BrightnessDetector:
    """Makes ``vision.detect.load_detector`` answer, whatever the model, a detector that finds a stall in any frame."""
    detector = BrightnessDetector(level=0.0, default_conf=0.01)
    monkeypatch.setattr("vision.detect.load_detector", lambda *args, **kwargs: detector)
    return detector
