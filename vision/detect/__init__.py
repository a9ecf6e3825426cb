"""YOLO detectors behind one protocol: ultralytics (.pt), ONNX Runtime (.onnx) and OpenVINO (IR folder).

Each backend converts its runtime's own output to ``Detections`` in the original image's pixels. A runtime is
imported only when its backend is constructed, so importing this package needs none of them.

Example:
    >>> detector = load_detector("models/xiuhua-n")  # OpenVINO if installed, else ONNX Runtime, else the .pt
    >>> detections = detector.detect([frame.image])[0]
"""

from __future__ import annotations

from vision.detect.base import Detector, ModelInfo
from vision.detect.loader import ModelFiles, find_model_files, load_detector
from vision.detect.onnx_backend import OnnxDetector
from vision.detect.openvino_backend import OpenVinoDetector
from vision.detect.ultralytics_backend import UltralyticsDetector

__all__ = [
    "Detector",
    "ModelFiles",
    "ModelInfo",
    "OnnxDetector",
    "OpenVinoDetector",
    "UltralyticsDetector",
    "find_model_files",
    "load_detector",
]
