"""What a scan worker loads: the options' model, letterboxing video frames into a smaller input by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.scan.options import ScanOptions
from service.scan.worker import ScanWorker, WorkerConfig
from vision.detect.letterbox import make_blob


@pytest.mark.parametrize(("options", "input_shape"), [({}, (224, 320)), ({"rect": False}, (320, 320))])
def test_workers_letterbox_16_9_frames_into_a_smaller_input_unless_asked_for_the_square(
    random_model: Any, tmp_path: Path, options: dict[str, bool], input_shape: tuple[int, int]
) -> None:
    scan_options = ScanOptions(model=str(random_model.folder), runtime="openvino", **options)
    config = WorkerConfig(database_url=f"sqlite:///{tmp_path / 'scan.db'}", job_id=1, options=scan_options)
    worker = ScanWorker(config)
    try:
        detector = worker.model().detector
    finally:
        worker.close()
    stride = getattr(detector, "rect_stride", None)

    blob, _ = make_blob([np.zeros((1080, 1920, 3), np.uint8)], detector.info.imgsz, stride=stride)

    assert blob.shape[2:] == input_shape
