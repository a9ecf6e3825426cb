"""Image comparison speed: ms per 1080p pair, against decoding the same two JPEGs in the same run.

    .venv/bin/python benchmarks/compare.py [--pairs 5] [--repeats 3]

The pairs are textured street scenes from the test factory (tests/factories/change_pairs.py) rendered at
1920x1080: a moved, re-lit view with one new and one removed object. Decoding two 1080p JPEGs is the floor
every comparison pays anyway, so the ratio says how much the comparison adds on this machine, whatever its
load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

# The repository's vision package first (tests/vision would shadow it), then the tests' factories.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories.change_pairs import Light, View, make_pair

from vision.compare import CompareSettings, ImageComparer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=5, help="Different pairs to time.")
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs per pair (best is kept).")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    encoded = []
    for index in range(args.pairs):
        view = View((rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)), rng.uniform(-3, 3), rng.uniform(0.9, 1.1))
        pair = make_pair(900 + index, width=1920, height=1080, new=1, gone=1, view=view, light=Light(gain=0.8))
        encoded.append(
            tuple(
                cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1]
                for image in (pair.reference, pair.current)
            )
        )
    comparer, classical = ImageComparer(), ImageComparer(CompareSettings(scorer=None))
    decode_ms, compare_ms, classical_ms = [], [], []
    for reference_jpeg, current_jpeg in encoded:
        reference, current = _decode_both(reference_jpeg, current_jpeg)
        comparer.compare(reference, current)  # warm-up
        decode_ms.append(_best_ms(partial(_decode_both, reference_jpeg, current_jpeg), args.repeats))
        compare_ms.append(_best_ms(partial(comparer.compare, reference, current), args.repeats))
        classical_ms.append(_best_ms(partial(classical.compare, reference, current), args.repeats))
    decode, compare = statistics.median(decode_ms), statistics.median(compare_ms)
    print(f"1080p pairs: {args.pairs}, OpenCV threads: {cv2.getNumThreads()}")
    print(f"decode two JPEGs (cv2.imdecode): {decode:7.1f} ms per pair")
    print(f"compare (align + change + scored regions): {compare:7.1f} ms per pair")
    print(f"  of which without the region scorer (--classical): {statistics.median(classical_ms):7.1f} ms per pair")
    print(f"ratio compare / decode: {compare / decode:.2f}x")


def _decode_both(*jpegs: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    return [np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), np.uint8) for jpeg in jpegs]


def _best_ms(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000.0)
    return min(times)


if __name__ == "__main__":
    main()
