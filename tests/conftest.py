"""Fixtures shared across the test suite."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from factories.network import no_network

# ultralytics reads these at import: no online check, no analytics, no pip auto-install.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")


@pytest.fixture(scope="session")
def random_model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A random-weights YOLO26n model folder with the 11 xiuhua classes, built once per session (~20 s).

    Returns a ``vision.detect.random_model.RandomModel``: ``folder`` (a model folder with card.yaml), ``pytorch``,
    ``onnx`` and ``openvino`` (end-to-end output, dynamic batch and input size, imgsz 320). The weights are
    random: use it to test plumbing, never accuracy.
    """
    pytest.importorskip("ultralytics", reason="the random model is built with the train extra")
    from vision.detect.random_model import build_random_model

    with no_network() as attempts:
        model = build_random_model(Path(tmp_path_factory.mktemp("models")), imgsz=320)
    assert not attempts, f"building the random model tried to reach the network: {attempts}"
    return model
