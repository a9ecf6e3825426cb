"""Skipping unchanged frames of fixed cameras: `MotionGate` lets a frame through only when the view changed."""

from __future__ import annotations

from vision.gate.motion import GateDecision, GateReason, GateSettings, MotionGate, check_ignore_box

__all__ = ["GateDecision", "GateReason", "GateSettings", "MotionGate", "check_ignore_box"]
