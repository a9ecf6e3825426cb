"""Fixtures for the detector backends: a classic-head, static-batch export of the session's random model."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from factories.network import no_network


@pytest.fixture(scope="session")
def classic_model(random_model: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The random model's weights exported with the classic head (needs NMS) at a fixed batch of 1, no card.

    Returns the ``.pt``, ``.onnx`` and OpenVINO folder by runtime name.
    """
    from vision.detect.random_model import export_checkpoint

    folder = Path(tmp_path_factory.mktemp("classic"))
    pytorch = Path(shutil.copy(random_model.pytorch, folder / "classic.pt"))
    with no_network() as attempts:
        exports = {
            fmt: export_checkpoint(pytorch, fmt, imgsz=320, end2end=False, dynamic=False)
            for fmt in ("onnx", "openvino")
        }
    assert not attempts, f"export tried to reach the network: {attempts}"
    return {"ultralytics": pytorch, "onnxruntime": exports["onnx"], "openvino": exports["openvino"]}
