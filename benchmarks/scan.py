"""How fast ``xiuhua scan`` gets through video, against decoding the same files in the same run.

Usage::

    .venv/bin/python benchmarks/scan.py [--seconds 30] [--workdir /tmp/xiuhua-bench-scan] [--quick] [--repeat 3]

Footage, made once with PyAV into ``--workdir`` (the sample videos are 768x432 at 10-12.5 fps, so they are
scaled to 1920x1080 and resampled to 25 fps, H.264, a keyframe every 2 s, like a street camera's recording):

- ``street-*.mp4``: the shared sample videos (traffic, pedestrians), ``--seconds`` of each.
- ``still-*.mp4``: a fixed camera's view with little change (6x ``--seconds`` long): one street picture held, faint
  noise, and a person-sized block crossing for 4 s every 30 s.

Measured, in video seconds per wall second (× real time):

- decode only: reading the files with the scan's own sampling (2 fps) and nothing else, the ceiling of a scan;
- scan: the whole pipeline with the shipped model (OpenVINO), 2 fps, into a fresh SQLite database, with the
  worker / thread layouts to choose ``--workers`` from;
- the fixed camera with little change: the default fixed-camera scan (keyframes, as they are 2 s apart, and the
  motion gate), and 2 fps with and without the gate.

Times include everything a scan does: planning, loading the model (about 1 s), the database, evidence.

On a shared machine the load changes from one second to the next, so the 1080p street scans alternate with
decode-only runs (``--repeat`` pairs) and each scan is compared with the mean of the decode runs just before and
after it; the line gives the median. CPU seconds per video second (this process and its workers) are printed too:
they hardly depend on what else runs, and their ratio is what the throughputs' ratio tends to when both runs use
the two cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.stream import VideoStream

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # runs standalone, without an installed package

from service.cameras.queries import create_camera  # noqa: E402
from service.db import Base, make_engine, session_factory  # noqa: E402
from service.scan import ScanOptions, ScanRequest, run_scan  # noqa: E402
from service.scan.runner import default_threads  # noqa: E402
from vision.sources import Sampling, open_source  # noqa: E402

VIDEOS = REPO.parent / "shared" / "data" / "videos"
MODEL = REPO / "models" / "xiuhua-n"
SIZE = (1920, 1080)
FPS = 25


@dataclass(frozen=True)
class Result:
    """One measurement."""

    name: str
    video_seconds: float
    wall_seconds: float
    detected: int = 0
    frames: int = 0
    cpu_seconds: float = 0.0

    @property
    def speed(self) -> float:
        """Video seconds per wall second (× real time)."""
        return self.video_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def cpu_per_video_second(self) -> float:
        """CPU seconds (all threads and worker processes) per second of video."""
        return self.cpu_seconds / self.video_seconds if self.video_seconds > 0 else 0.0


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def upscaled_frames(source: Path, seconds: float) -> Iterator[av.VideoFrame]:
    """The source's frames scaled to 1080p and repeated or dropped to 25 fps, for ``seconds``."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 25)
        wanted = int(seconds * FPS)
        emitted = 0
        for index, frame in enumerate(container.decode(stream)):
            planes = frame.reformat(width=SIZE[0], height=SIZE[1], format="yuv420p").to_ndarray()
            # Emit this source frame for every 25 fps tick up to the next source frame's time.
            upto = min(wanted, round((index + 1) * FPS / rate))
            while emitted < upto:
                yield av.VideoFrame.from_ndarray(planes, format="yuv420p")
                emitted += 1
            if emitted >= wanted:
                return


def write_h264(path: Path, frames: Iterator[av.VideoFrame]) -> Path:
    """H.264 at 25 fps, a keyframe every 2 s (a typical camera's GOP), written atomically."""
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.codec_context.gop_size = 2 * FPS
        stream.codec_context.options = {"preset": "veryfast", "crf": "23", "bframes": "0"}
        for index, frame in enumerate(frames):
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.rename(path)
    return path


def still_frames(seconds: float, seed: int = 0) -> Iterator[av.VideoFrame]:
    """A held street view with faint noise that changes once a second (what is left of sensor noise after a
    camera's encoder); a 60x160 px block walks across for 4 s every 30 s."""
    with av.open(str(VIDEOS / "car-detection.mp4")) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    view = cv2.resize(first, SIZE, interpolation=cv2.INTER_CUBIC).astype(np.int16)
    rng = np.random.default_rng(seed)
    noisy = view.astype(np.uint8)
    for index in range(int(seconds * FPS)):
        t = index / FPS
        if index % FPS == 0:
            noise = rng.integers(-2, 3, (-(-SIZE[1] // 16), SIZE[0] // 16, 1), dtype=np.int16)
            grain = np.kron(noise, np.ones((16, 16, 1), np.int16))[: SIZE[1]]
            noisy = np.clip(view + grain, 0, 255).astype(np.uint8)
        image = noisy.copy()
        phase = t % 30.0
        if 10.0 <= phase < 14.0:
            x = int(200 + (phase - 10.0) / 4.0 * 1400)
            image[700:860, x : x + 60] = (40, 60, 140)
        yield av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")


def footage(workdir: Path, seconds: float) -> tuple[list[Path], Path]:
    """The 1080p street clips and the still fixed-camera clip, made once per length."""
    workdir.mkdir(parents=True, exist_ok=True)
    streets = []
    for source in sorted(VIDEOS.glob("*.mp4")):
        target = workdir / f"street-{source.stem}-{seconds:g}s.mp4"
        if not target.exists():
            print(f"making {target.name} ...", flush=True)
            write_h264(target, upscaled_frames(source, seconds))
        streets.append(target)
    still = workdir / f"still-v2-{6 * seconds:g}s.mp4"
    if not still.exists():
        print(f"making {still.name} ...", flush=True)
        write_h264(still, still_frames(6 * seconds))
    return streets, still


def duration(path: Path) -> float:
    """Video length in seconds from the header."""
    with open_source(path) as source:
        return float(source.describe().duration or 0.0)


def decode_only(paths: Sequence[Path], sampling: Sampling) -> Result:
    """Reads every file with the scan's sampling (decode + BGR pixels of the kept frames), nothing else."""
    started, cpu = time.perf_counter(), cpu_seconds()
    frames = 0
    for path in paths:
        with open_source(path, sampling=sampling) as source:
            frames += sum(1 for _ in source)
    wall = time.perf_counter() - started
    return Result(f"decode only, {sampling}", sum(duration(p) for p in paths), wall, 0, frames, cpu_seconds() - cpu)


def scan(
    name: str, paths: Sequence[Path], workdir: Path, *, workers: int, threads: int | None, **options: object
) -> Result:
    """One scan into a fresh database with a fixed camera registered where the footage was 'taken'."""
    folder = Path(tempfile.mkdtemp(prefix="scan-", dir=workdir))
    url = f"sqlite:///{folder / 'scan.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with session_factory(engine)() as session:
        create_camera(session, key="bench-1", kind="fixed", name="bench", lat=31.2304, lon=121.4737)
        session.commit()
    engine.dispose()
    request = ScanRequest(
        inputs=tuple(str(p) for p in paths),
        options=ScanOptions(camera="bench-1", model=str(MODEL), **options),  # type: ignore[arg-type]
        database_url=url,
        workers=workers,
        threads=threads,
        evidence_root=str(folder / "evidence"),
        report=False,
    )
    cpu = cpu_seconds()
    summary = run_scan(request)
    cpu = cpu_seconds() - cpu
    shutil.rmtree(folder, ignore_errors=True)
    detected = sum(outcome.detected for outcome in summary.outcomes)
    return Result(name, summary.video_seconds, summary.wall_seconds, detected, summary.frames, cpu)


def show(result: Result, baseline: Result | None = None) -> None:
    ratio = f"  {result.speed / baseline.speed:6.0%} of {baseline.name}" if baseline is not None else ""
    print(
        f"  {result.name:<46} {result.speed:6.1f}x real time  ({result.video_seconds:.0f} s of video in "
        f"{result.wall_seconds:.1f} s; {result.frames} frames, {result.detected} detected; "
        f"{result.cpu_per_video_second:.3f} CPU s per video s){ratio}",
        flush=True,
    )


def interleaved(
    label: str, paths: Sequence[Path], workdir: Path, sampling: Sampling, repeat: int, **scan_options: object
) -> None:
    """``repeat`` scans, each between two decode-only runs; prints every run and the medians."""
    decodes = [decode_only(paths, sampling)]
    show(decodes[0])
    ratios, cpu_ratios, scans = [], [], []
    for _ in range(repeat):
        scanned = scan(label, paths, workdir, **scan_options)  # type: ignore[arg-type]
        decodes.append(decode_only(paths, sampling))
        before, after = decodes[-2], decodes[-1]
        ratios.append(scanned.speed / ((before.speed + after.speed) / 2))
        cpu_ratios.append(before.cpu_seconds / scanned.cpu_seconds if scanned.cpu_seconds > 0 else 0.0)
        scans.append(scanned)
        show(scanned, before)
        show(after)
    speeds = [result.speed for result in scans]
    print(
        f"  median of {repeat}: scan {statistics.median(speeds):.1f}x real time, decode only "
        f"{statistics.median(d.speed for d in decodes):.1f}x; scan / decode only {statistics.median(ratios):.0%} "
        f"(throughput, neighbouring runs), {statistics.median(cpu_ratios):.0%} (CPU time)",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="Seconds of each street clip (still: 6x).")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "xiuhua-bench-scan")
    parser.add_argument("--quick", action="store_true", help="Only the default layout, not the worker comparison.")
    parser.add_argument("--repeat", type=int, default=3, help="Default-layout scans, each between decode-only runs.")
    args = parser.parse_args(argv)
    streets, still = footage(args.workdir, args.seconds)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {load:.1f}; model {MODEL.name}")
    two_fps = Sampling.per_second(2)

    print(f"1080p {FPS} fps street footage ({', '.join(p.name for p in streets)}), 2 fps sampling, no gate:")
    label = f"scan, 1 worker(s) x {default_threads(1)} thread(s) (default)"
    street = {"workers": 1, "threads": None, "sample": "2fps", "gate": False}
    interleaved(label, streets, args.workdir, two_fps, max(1, args.repeat), **street)
    if not args.quick:
        decoded = decode_only(streets, two_fps)
        show(decoded)
        for workers, threads in [(1, 2), (2, 1)]:
            label = f"scan, {workers} worker(s) x {threads} thread(s)"
            layout = {**street, "workers": workers, "threads": threads}
            show(scan(label, streets, args.workdir, **layout), decoded)  # type: ignore[arg-type]
        show(decode_only(streets, two_fps))  # the machine may be busier or quieter by now: the ratios use the first

    print(f"fixed camera, little change ({still.name}):")
    still_decoded = decode_only([still], two_fps)
    show(still_decoded)
    show(decode_only([still], Sampling.keyframes()))
    show(scan("scan, fixed default (keyframes + gate)", [still], args.workdir, workers=1, threads=None), still_decoded)
    show(scan("scan, 2 fps + gate", [still], args.workdir, workers=1, threads=None, sample="2fps"), still_decoded)
    show(
        scan("scan, 2 fps, no gate", [still], args.workdir, workers=1, threads=None, sample="2fps", gate=False),
        still_decoded,
    )


if __name__ == "__main__":
    main()
