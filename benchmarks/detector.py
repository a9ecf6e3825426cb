"""How fast each detector runtime is on the same frames, against the fastest in the same run.

Usage::

    .venv/bin/python benchmarks/detector.py [--model PATH] [--frames N] [--threads 2] [--batch 1]

``--model`` is a model folder (every runtime present in it is measured) or one model file. Without it,
``models/xiuhua-n/`` is used when it exists, else a random-weights YOLO26n at 640 is built in a temporary folder
(speed does not depend on the weights). Frames are decoded from the car-detection sample video with OpenCV.

The last line is the pipeline's overhead: ``OpenVinoDetector.detect`` (letterbox, normalisation, inference, decoding
the boxes) against raw OpenVINO inference of the same IR, compiled the same way, on an input blob made beforehand.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # runs standalone, without an installed package

from vision.detect import Detector, OpenVinoDetector, find_model_files, load_detector  # noqa: E402
from vision.detect.letterbox import make_blob  # noqa: E402
from vision.detect.random_model import build_random_model, synthetic_frame  # noqa: E402
from vision.detect.runtime import OPENVINO, RUNTIMES, is_installed  # noqa: E402

DEFAULT_MODEL = REPO / "models" / "xiuhua-n"
DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "videos" / "car-detection.mp4"

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Timing:
    """One backend's measurement."""

    name: str
    ms_per_frame: float
    spread_ms: float
    detections_per_frame: float


def read_frames(video: Path, count: int) -> list[Image]:
    """Decode the first ``count`` frames of ``video``; synthetic 768x432 frames if it cannot be read."""
    capture = cv2.VideoCapture(str(video))
    frames: list[Image] = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if not frames:
        print(f"note: cannot read {video}; using synthetic 768x432 frames")
        return [synthetic_frame(432, 768, seed) for seed in range(count)]
    return frames


def backends(model: Path, threads: int) -> list[tuple[str, Callable[[], Detector]]]:
    """The backends to measure: each installed runtime with a file in the folder, or the one for a file."""
    if model.is_file() or model.name.endswith("_openvino_model"):
        return [(model.suffix or "openvino", lambda: load_detector(model, threads=threads))]
    files = find_model_files(model)
    found: list[tuple[str, Callable[[], Detector]]] = []
    for runtime in RUNTIMES:
        path = files.get(runtime)
        if path is None or not is_installed(runtime):
            continue
        found.append((runtime, lambda runtime=runtime: load_detector(model, runtime=runtime, threads=threads)))
        if runtime == OPENVINO:  # its default precision may be bf16; float32 shows what that buys
            found.append(("openvino (f32)", lambda path=path: OpenVinoDetector(path, threads=threads, precision="f32")))
    return found


def measure(name: str, detector: Detector, frames: Sequence[Image], batch: int, warmup: int) -> Timing:
    """Time ``detector`` over ``frames`` in batches of ``batch``, after ``warmup`` untimed batches."""
    batches = [list(frames[i : i + batch]) for i in range(0, len(frames), batch)]
    for warm in batches[:warmup]:
        detector.detect(warm)
    seconds, found = [], 0
    for images in batches:
        start = time.perf_counter()
        results = detector.detect(images)
        seconds.append((time.perf_counter() - start) / len(images))
        found += sum(len(r) for r in results)
    spread = statistics.stdev(seconds) if len(seconds) > 1 else 0.0
    return Timing(name, 1000 * statistics.mean(seconds), 1000 * spread, found / len(frames))


def raw_openvino(model: Path, frames: Sequence[Image], threads: int, warmup: int) -> tuple[Timing, Timing] | None:
    """Time ``OpenVinoDetector.detect`` and bare inference of its IR on the same frames, one frame per call.

    The bare run feeds the blob of each frame letterboxed beforehand into a request compiled for the same input
    size and thread count, and reads the output tensor: everything the detector adds is the difference.
    """
    ir = model if model.name.endswith("_openvino_model") else None
    if ir is None and model.is_dir():
        ir = find_model_files(model).get(OPENVINO)
    if ir is None or not is_installed(OPENVINO):
        return None
    import openvino as ov

    detector = OpenVinoDetector(ir, threads=threads)
    wrapped = measure("openvino detect()", detector, frames, 1, warmup)
    height, width = detector.info.imgsz
    xml = next(Path(ir).glob("*.xml")) if Path(ir).is_dir() else Path(ir)
    core = ov.Core()
    network = core.read_model(str(xml))
    if network.input(0).get_partial_shape().is_dynamic:
        network.reshape({0: [1, 3, height, width]})
    request = core.compile_model(network, "CPU", {"INFERENCE_NUM_THREADS": threads}).create_infer_request()
    blobs = [make_blob([frame], (height, width))[0] for frame in frames]
    for blob in blobs[:warmup]:
        request.infer({0: blob})
    seconds = []
    for blob in blobs:
        start = time.perf_counter()
        request.infer({0: blob})
        np.array(request.get_output_tensor(0).data)
        seconds.append(time.perf_counter() - start)
    spread = statistics.stdev(seconds) if len(seconds) > 1 else 0.0
    bare = Timing("openvino raw infer", 1000 * statistics.mean(seconds), 1000 * spread, float("nan"))
    return wrapped, bare


def print_table(timings: Sequence[Timing]) -> None:
    """Print ms per frame and the ratio to the fastest backend."""
    fastest = min(t.ms_per_frame for t in timings)
    print(f"{'backend':<18}{'ms/frame':>10}{'± sd':>8}{'x fastest':>11}{'boxes/frame':>13}")
    for timing in sorted(timings, key=lambda t: t.ms_per_frame):
        print(
            f"{timing.name:<18}{timing.ms_per_frame:>10.1f}{timing.spread_ms:>8.1f}"
            f"{timing.ms_per_frame / fastest:>11.2f}{timing.detections_per_frame:>13.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="model folder or file (default: models/xiuhua-n)")
    parser.add_argument("--frames", type=int, default=50, help="frames to time (default 50)")
    parser.add_argument("--threads", type=int, default=2, help="inference threads (default 2)")
    parser.add_argument("--batch", type=int, default=1, help="frames per detect call (default 1)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls first (default 5)")
    parser.add_argument("--imgsz", type=int, default=640, help="input size of a generated random model")
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="xiuhua-bench-") as scratch:
        model = args.model or (DEFAULT_MODEL if DEFAULT_MODEL.exists() else None)
        if model is None:
            print(f"{DEFAULT_MODEL} not found: building a random-weights YOLO26n at {args.imgsz} (about a minute)")
            model = build_random_model(Path(scratch), imgsz=args.imgsz, name="random-bench").folder
        frames = read_frames(args.video, args.frames)
        candidates = backends(model, args.threads)
        if not candidates:
            print(f"no installed runtime can run {model}")
            return 1
        height, width = frames[0].shape[:2]
        print(
            f"model {model}; {len(frames)} frames {width}x{height}; batch {args.batch}; threads {args.threads}; "
            f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})"
        )
        timings = []
        for name, build in candidates:
            detector = build()
            imgsz = "x".join(map(str, detector.info.imgsz))
            print(f"  {name}: {detector.info.path.name}, input {imgsz}")
            timings.append(measure(name, detector, frames, args.batch, args.warmup))
        print_table(timings)
        overhead = raw_openvino(model, frames, args.threads, args.warmup)
        if overhead is not None:
            wrapped, bare = overhead
            ratio = wrapped.ms_per_frame / bare.ms_per_frame
            print(
                f"pipeline overhead: detect() {wrapped.ms_per_frame:.1f} ms/frame against raw OpenVINO inference "
                f"{bare.ms_per_frame:.1f} ms/frame of the same IR and input size: x{ratio:.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
