"""Live streams under load: lag, drops, memory and throughput of N concurrent 720p streams, with a cut mid-way.

Usage::

    .venv/bin/python benchmarks/streams.py [--streams 4] [--seconds 120] [--work-ms 40 | --model models/xiuhua-n]
    .venv/bin/python benchmarks/streams.py --pipeline [--synth DIR] [--backend sqlite|postgresql] [--seconds 600]

A publisher process serves the shared street videos (``/work/shared/data/videos/*.mp4``, stream ``i`` plays video
``i mod count``) as local HTTP multipart-MJPEG streams, upscaled to 1280x720, JPEG quality 80, at each video's own
frame rate, looping over its first ``--clip-seconds``. The streams are watched by a `StreamManager` in this process:

1. decode-only, ``--decode-seconds``: a handler that does nothing, gate off. Its frames/s per stream is the
   baseline (the rate the sampled streams deliver), with this process's CPU use.
2. the run, ``--seconds``: a handler doing a fixed amount of CPU work per frame (``--work-ms``, calibrated in this
   run on one frame), the real detector (``--model``), or ``--pipeline``: the whole stream pipeline of
   ``xiuhua watch`` (detect, track, sightings, rules, de-duplication, candidates) with the shipped model into a
   throw-away database, a synthetic clip with known objects as the last stream (``--synth``; see
   ``benchmarks/stream_pipeline.py`` for it and for the frame-to-candidate latency); the motion gate as for fixed
   cameras unless ``--no-gate``.
   At ``--cut-at`` of the run the publisher closes every connection and answers 503 for ``--cut-for`` seconds; each
   stream must reconnect and resume.

Prints every ``--report-every`` seconds: RSS, CPU, per-stream counters; at the end: lag percentiles (arrival to
handled, over every handled frame), drops, gated, reconnects, handled frames/s against the decode-only rate, and the
RSS over time (peak, and the change over the second half of the run: bounded memory shows no trend).

Measured (2026-11-25, 2 CPUs shared with a training job at nice 10, load average 3.9 at the start, 2.3 at the end),
after ``xiuhua synth fixed --out /tmp/sb/fixed --minutes 5 --fps 2 --size 1280x720`` (seed 0)::

    nice -n 0 .venv/bin/python benchmarks/streams.py --pipeline --synth /tmp/sb/fixed --seconds 600

3 real videos + 1 synthetic (truth boxes), SQLite, xiuhua-n stage 3 OpenVINO (15 ms/frame), 2 fps per stream:
lag p50 0.03 s, p90 0.08 s, p99 0.14 s, max 0.74 s; 0 of 4775 sampled frames dropped; 1.99 frames/s taken per
stream vs 2.00 decode-only (ratio 1.00); 0.24 cores; RSS 396 MiB at the start, 582 at 300 s, 580 at 600 s (second
half +0.13 MiB/min); the cut at 300 s: all 4 reconnected and resumed. 43 candidates, all on the synthetic stream
(no reference image: its signboards are queued too). Object first seen to candidate committed: 151 s for classes
with a 120 s dwell, 181-187 s for 180 s (dwell plus up to one 30 s report interval); frame arrival to commit
p50 0.07 s, max 0.74 s (one frame committing 35 candidates with their evidence). The model found nothing on
the 3 real streams (0 sightings; the videos hold no violations). ``--backend postgresql --seconds 300``: lag p99
0.07 s, max 0.78 s, 0 dropped, all resumed, RSS 584 MiB at 150 s and 587 at 300 s; 42 candidates, first seen to
committed 121 s (120 s dwell) and 184 s (180 s): where the report tick falls decides the 0-30 s on top.
"""

from __future__ import annotations

import argparse
import http.server
import multiprocessing
import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # runs standalone, without an installed package

from service.streams import StreamManager, StreamManagerSettings, StreamSpec, StreamStatus  # noqa: E402
from vision.detect import Detector  # noqa: E402
from vision.frame import Frame  # noqa: E402

VIDEOS = REPO.parent / "shared" / "data" / "videos"


# --- publisher (a separate process, so its memory and CPU are not counted as the manager's) ------------------------


def encode_clip(video: Path, height: int, seconds: float, quality: int) -> tuple[list[bytes], float]:
    """JPEG frames of the first ``seconds`` of the video, scaled to ``height`` lines, and its frame rate."""
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames: list[bytes] = []
    while len(frames) < seconds * fps:
        ok, image = capture.read()
        if not ok:
            break
        width = round(image.shape[1] * height / image.shape[0] / 2) * 2
        scaled = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
        frames.append(cv2.imencode(".jpg", scaled, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes())
    capture.release()
    return frames, fps


def serve_clip(frames: list[bytes], fps: float, offset: int, cut: Callable[[], int], down: threading.Event) -> type:
    """An HTTP handler class streaming the clip in a loop at its frame rate, until a cut."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if down.is_set():
                self.send_error(503)
                return
            generation = cut()
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            started = time.monotonic()
            sent = 0
            try:
                while cut() == generation:
                    data = frames[(offset + sent) % len(frames)]
                    head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n"
                    self.wfile.write(head.encode() + data + b"\r\n")
                    sent += 1
                    time.sleep(max(0.0, started + sent / fps - time.monotonic()))  # no drift
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@dataclass(frozen=True)
class PublishOptions:
    """What the publisher serves."""

    streams: int
    height: int
    clip_seconds: float
    cut_for: float
    synth: Path | None = None  # a `xiuhua synth fixed` folder: the last stream plays it (index-stamped, ~25 fps)


def publish(options: PublishOptions, ready: multiprocessing.Queue, cut: EventType, stop: EventType) -> None:
    """The publisher process: encode the clips, serve one port per stream, cut all on request."""
    videos = sorted(VIDEOS.glob("*.mp4"))
    clips = [encode_clip(video, options.height, options.clip_seconds, 80) for video in videos]
    names = [video.name for video in videos]
    generation = [0]
    down = threading.Event()
    servers = []
    for index in range(options.streams):
        frames, fps = clips[index % len(clips)]
        offset, name = index * 37, names[index % len(names)]
        if options.synth is not None and index == options.streams - 1:
            from benchmarks.stream_pipeline import synth_clip_frames

            frames, fps = synth_clip_frames(options.synth, options.height, 80)
            repeat = max(1, round(25 / fps))  # a camera's frame rate: the decoding costs what a real stream's does
            frames, fps, offset, name = [f for f in frames for _ in range(repeat)], fps * repeat, 0, "synth fixed"
        handler = serve_clip(frames, fps, offset=offset, cut=lambda: generation[0], down=down)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, name, fps, len(frames[0])))
    ready.put(
        [(f"http://127.0.0.1:{s.server_address[1]}/live.mjpg", name, fps, size) for s, name, fps, size in servers]
    )
    while not stop.is_set():
        if cut.wait(0.1):
            down.set()
            generation[0] += 1
            time.sleep(options.cut_for)
            down.clear()
            cut.clear()


# --- handlers ------------------------------------------------------------------------------------------------------


@dataclass
class LagLog:
    """Every handled frame's lag (arrival to handled), shared by the handlers."""

    lags: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, frame: Frame) -> None:
        assert frame.wall_time is not None
        lag = (datetime.now(UTC) - frame.wall_time).total_seconds()
        with self.lock:
            self.lags.append(lag)


class WorkHandler:
    """Does ``repeats`` rounds of fixed CPU work on the frame (resize to 640 wide, blur), then logs the lag."""

    def __init__(self, repeats: int, log: LagLog | None) -> None:
        self.repeats = repeats
        self.log = log

    def handle(self, frame: Frame) -> None:
        work(frame.image, self.repeats)
        if self.log is not None:
            self.log.add(frame)

    def close(self) -> None:
        pass


class DetectorHandler:
    """Runs the shared detector on the frame, then logs the lag."""

    def __init__(self, detector: object, log: LagLog) -> None:
        self.detector = detector
        self.log = log

    def handle(self, frame: Frame) -> None:
        self.detector.detect([frame.image])  # type: ignore[attr-defined]
        self.log.add(frame)

    def close(self) -> None:
        pass


def work(image: np.ndarray, repeats: int) -> None:
    small = cv2.resize(image, (640, 360), interpolation=cv2.INTER_AREA)
    for _ in range(repeats):
        small = cv2.GaussianBlur(small, (9, 9), 0)


def calibrate(image: np.ndarray, work_ms: float) -> tuple[int, float]:
    """Rounds of `work` that take about ``work_ms`` on this machine now, and the measured ms per call."""
    start = time.perf_counter()
    work(image, 20)
    per_round = (time.perf_counter() - start) / 20
    repeats = max(1, round(work_ms / 1000 / per_round))
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        work(image, repeats)
        timings.append(time.perf_counter() - start)
    return repeats, 1000 * statistics.median(timings)


# --- measuring -----------------------------------------------------------------------------------------------------


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Phase:
    """What one phase measured."""

    seconds: float
    cpu: float
    health: dict[str, StreamStatus]
    rss: list[tuple[float, float]]


def run_phase(
    specs: Sequence[StreamSpec],
    factory: Callable[[StreamSpec], object],
    seconds: float,
    *,
    report_every: float,
    settings: StreamManagerSettings,
    on_tick: Callable[[float, StreamManager], None] | None = None,
) -> Phase:
    """Watches the streams for ``seconds`` (after their first frames) and samples RSS and counters."""
    with StreamManager(settings, factory) as manager:  # type: ignore[arg-type]
        for spec in specs:
            manager.add(spec)
        deadline = time.monotonic() + 60
        while any(status.frames_in == 0 for status in manager.health().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        start, cpu_start = time.monotonic(), cpu_seconds()
        base = manager.health()
        rss: list[tuple[float, float]] = []
        next_report = start
        while (elapsed := time.monotonic() - start) < seconds:
            rss.append((elapsed, rss_mib()))
            if on_tick is not None:
                on_tick(elapsed, manager)
            if time.monotonic() >= next_report:
                print_tick(elapsed, manager.health(), cpu_seconds() - cpu_start)
                next_report += report_every
            time.sleep(0.5)
        health = {key: difference(status, base[key]) for key, status in manager.health().items()}
        return Phase(time.monotonic() - start, cpu_seconds() - cpu_start, health, rss)


def difference(now: StreamStatus, before: StreamStatus) -> StreamStatus:
    """Counters over the measured span only (the warm-up is left out)."""
    from dataclasses import replace

    return replace(
        now,
        frames_in=now.frames_in - before.frames_in,
        frames_out=now.frames_out - before.frames_out,
        dropped=now.dropped - before.dropped,
        gated=now.gated - before.gated,
        decoded=now.decoded - before.decoded,
        reconnects=now.reconnects - before.reconnects,
    )


def print_tick(elapsed: float, health: dict[str, StreamStatus], cpu: float) -> None:
    streams = " | ".join(
        f"{key} {s.state[:4]} out={s.frames_out} gated={s.gated} drop={s.dropped} lag={s.lag_s or 0:.2f}"
        for key, s in health.items()
    )
    load = f"{cpu / elapsed:4.2f}" if elapsed >= 1 else "   -"
    print(f"  t={elapsed:6.1f}s rss={rss_mib():6.1f} MiB cpu={load} cores | {streams}")


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def summary(name: str, phase: Phase) -> tuple[float, float]:
    """Prints per-stream rates; returns (handled frames/s per stream, decoded frames/s per stream)."""
    print(f"{name}: {phase.seconds:.0f} s, CPU {phase.cpu / phase.seconds:.2f} cores of {os.cpu_count()}")
    print(f"  {'stream':<8}{'decoded/s':>10}{'in/s':>7}{'out/s':>7}{'gated':>7}{'dropped':>8}{'reconn':>7}  state")
    for key, status in phase.health.items():
        print(
            f"  {key:<8}{status.decoded / phase.seconds:>10.2f}{status.frames_in / phase.seconds:>7.2f}"
            f"{status.frames_out / phase.seconds:>7.2f}{status.gated:>7}{status.dropped:>8}{status.reconnects:>7}"
            f"  {status.state}"
        )
    count = len(phase.health)
    handled = sum(s.frames_out + s.gated for s in phase.health.values()) / phase.seconds / count
    decoded = sum(s.decoded for s in phase.health.values()) / phase.seconds / count
    return handled, decoded


def memory_report(rss: list[tuple[float, float]]) -> None:
    """RSS at quarters of the run, the peak, and the trend over the second half (MiB per minute)."""
    if len(rss) < 4:
        return
    quarters = [rss[min(len(rss) - 1, round(q * (len(rss) - 1)))] for q in (0, 0.25, 0.5, 0.75, 1)]
    print("  RSS over time: " + ", ".join(f"{t:.0f}s {mib:.0f} MiB" for t, mib in quarters))
    second_half = rss[len(rss) // 2 :]
    times = np.array([t for t, _ in second_half])
    values = np.array([mib for _, mib in second_half])
    slope = float(np.polyfit(times, values, 1)[0]) * 60 if len(second_half) > 2 else float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  RSS max in run {max(values.max(), max(m for _, m in rss)):.0f} MiB; process peak {peak:.0f} MiB; "
        f"trend over the second half {slope:+.2f} MiB/min"
    )


def load_model(args: argparse.Namespace, sample: np.ndarray) -> Detector:
    """The ``--model`` detector, warmed up, its time per frame alone printed."""
    from vision.detect import load_detector

    detector = load_detector(args.model, threads=args.threads)
    for _ in range(3):
        detector.detect([sample])  # warm-up: first calls compile and allocate
    start = time.perf_counter()
    for _ in range(5):
        detector.detect([sample])
    per_frame = (time.perf_counter() - start) / 5 * 1000
    print(f"detector {args.model} ({detector.info.runtime}), {per_frame:.0f} ms/frame alone")
    return detector


def make_factory(args: argparse.Namespace, log: LagLog, sample: np.ndarray) -> Callable[[StreamSpec], object]:
    """The run's handler factory: the real detector (shared, one caller at a time) or calibrated CPU work."""
    if args.model is not None:
        from service.streams.handlers import SharedDetector

        detector = SharedDetector(load_model(args, sample))
        print("handler: the detector alone")
        return lambda spec: DetectorHandler(detector, log)
    repeats, measured = calibrate(sample, args.work_ms)
    print(f"handler: fixed CPU work, {repeats} blur rounds = {measured:.1f} ms/frame alone (asked {args.work_ms} ms)")
    return lambda spec: WorkHandler(repeats, log)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the run (default 120)")
    parser.add_argument("--decode-seconds", type=float, default=20.0, help="length of the decode-only phase")
    parser.add_argument("--fps", type=float, default=2.0, help="sampling per stream (default 2)")
    parser.add_argument("--work-ms", type=float, default=40.0, help="CPU work per handled frame (default 40)")
    parser.add_argument("--model", type=Path, default=None, help="run this detector instead of fixed work")
    parser.add_argument(
        "--pipeline", action="store_true", help="the whole stream pipeline into a throw-away database (as watch)"
    )
    parser.add_argument("--synth", type=Path, default=None, help="--pipeline: the last stream plays this synth clip")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite", help="--pipeline database")
    parser.add_argument("--threads", type=int, default=2, help="detector threads (default 2)")
    parser.add_argument("--no-gate", action="store_true", help="hand every sampled frame on (patrol cameras)")
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--clip-seconds", type=float, default=30.0, help="seconds of each video looped")
    parser.add_argument("--cut-at", type=float, default=0.5, help="fraction of the run at which streams are cut")
    parser.add_argument("--cut-for", type=float, default=3.0, help="seconds the publisher refuses after the cut")
    parser.add_argument("--report-every", type=float, default=15.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark; returns the exit status (1 when a stream did not resume after the cut)."""
    args = parse(argv)
    if args.pipeline and args.model is None:
        from service.defaults import default_model_path

        args.model = default_model_path()
    context = multiprocessing.get_context("spawn")
    ready, cut, stop = context.Queue(), context.Event(), context.Event()
    options = PublishOptions(args.streams, args.height, args.clip_seconds, args.cut_for, args.synth)
    publisher = context.Process(target=publish, args=(options, ready, cut, stop), daemon=True)
    publisher.start()
    try:
        return measure(args, ready.get(timeout=300), cut)
    finally:
        stop.set()
        publisher.join(timeout=5)
        if publisher.is_alive():
            publisher.terminate()


def measure(args: argparse.Namespace, published: list[tuple[str, str, float, int]], cut: EventType) -> int:
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for index, (url, name, fps, size) in enumerate(published):
        print(f"  s{index}: {name} at {fps:g} fps, {args.height}p MJPEG (~{size // 1024} KiB/frame) on {url}")
    kind = "patrol" if args.no_gate else "fixed"
    specs = [StreamSpec(key=f"s{i}", url=url, kind=kind, fps=args.fps) for i, (url, *_) in enumerate(published)]
    sample = np.asarray(cv2.imdecode(np.frombuffer(fetch_one_jpeg(published[0][0]), np.uint8), cv2.IMREAD_COLOR))
    log = LagLog()
    if not args.pipeline:
        return measure_with(args, specs, make_factory(args, log, sample), log, cut)
    from benchmarks.stream_pipeline import pipeline_mode, pipeline_report

    model = load_model(args, sample)
    print(f"handler: the whole stream pipeline (xiuhua watch's) into a throw-away {args.backend} database")
    with pipeline_mode(
        model,
        specs,
        backend=args.backend,
        settings=StreamManagerSettings(),
        synth_folder=args.synth,
        height=args.height,
        on_handled=log.add,
    ) as pipeline:
        status = measure_with(args, specs, pipeline.factory, log, cut)
        pipeline_report(pipeline, {spec.key: spec.kind for spec in specs})
    return status


def measure_with(
    args: argparse.Namespace,
    specs: list[StreamSpec],
    factory: Callable[[StreamSpec], object],
    log: LagLog,
    cut: EventType,
) -> int:
    """The decode-only phase, then the run with ``factory``'s handlers; prints the report."""
    plain = [StreamSpec(key=s.key, url=s.url, kind="patrol", fps=args.fps) for s in specs]
    settings = StreamManagerSettings()
    print(f"\n1. decode-only ({args.decode_seconds:.0f} s, no-op handler, gate off)")
    baseline = run_phase(
        plain, lambda spec: WorkHandler(0, None), args.decode_seconds, report_every=args.report_every, settings=settings
    )
    base_out, base_decoded = summary("decode-only", baseline)

    print(
        f"\n2. run ({args.seconds:.0f} s, {'gate off' if args.no_gate else 'motion gate on'}; "
        f"cut at {args.cut_at * args.seconds:.0f} s for {args.cut_for:g} s)"
    )
    marks: dict[str, dict[str, int]] = {}

    def on_tick(elapsed: float, manager: StreamManager) -> None:
        if "cut" not in marks and elapsed >= args.cut_at * args.seconds:
            marks["cut"] = {key: s.frames_out + s.gated for key, s in manager.health().items()}
            cut.set()
        if "cut" in marks and "back" not in marks and elapsed >= args.cut_at * args.seconds + args.cut_for + 5:
            marks["back"] = {key: s.frames_out + s.gated for key, s in manager.health().items()}

    run = run_phase(specs, factory, args.seconds, report_every=args.report_every, settings=settings, on_tick=on_tick)
    taken, decoded = summary("run", run)
    return final_report(args, run, log, marks, (base_out, base_decoded), (taken, decoded))


def final_report(
    args: argparse.Namespace,
    run: Phase,
    log: LagLog,
    marks: dict[str, dict[str, int]],
    baseline: tuple[float, float],
    measured: tuple[float, float],
) -> int:
    lags = log.lags
    print(
        f"\nlag, arrival to handled, over {len(lags)} handled frames: p50 {percentile(lags, 0.5):.3f} s, "
        f"p90 {percentile(lags, 0.9):.3f} s, p99 {percentile(lags, 0.99):.3f} s, "
        f"max {max(lags, default=float('nan')):.3f} s"
    )
    worst = max((s.max_lag_s or 0.0) for s in run.health.values())
    print(f"worst lag any frame waited (handled, gated or dropped): {worst:.3f} s; max_lag_s setting 2.0 s")
    out = sum(s.frames_out for s in run.health.values()) / run.seconds / len(run.health)
    print(
        f"per stream: taken {measured[0]:.2f} frames/s (handled {out:.2f} + gated) vs decode-only "
        f"{baseline[0]:.2f} frames/s: ratio {measured[0] / baseline[0]:.2f}; decoded {measured[1]:.2f} vs "
        f"{baseline[1]:.2f} frames/s"
    )
    dropped = sum(s.dropped for s in run.health.values())
    frames_in = sum(s.frames_in for s in run.health.values())
    print(f"dropped {dropped} of {frames_in} sampled frames ({100 * dropped / max(1, frames_in):.1f}%)")
    memory_report(run.rss)
    resumed = {
        key: status.reconnects >= 1 and marks.get("back", {}).get(key, 0) < status.frames_out + status.gated
        for key, status in run.health.items()
    }
    print(
        "cut: "
        + ", ".join(f"{key} {'reconnected and resumed' if ok else 'DID NOT RESUME'}" for key, ok in resumed.items())
    )
    print(f"machine: load average at the end {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0 if all(resumed.values()) else 1


def fetch_one_jpeg(url: str) -> bytes:
    """One JPEG from the stream (the sample frame for calibration and detector warm-up)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        data = b""
        while (end := data.find(b"\xff\xd9")) < 0 or data.find(b"\xff\xd8") < 0:
            data += response.read(65536)
        return data[data.find(b"\xff\xd8") : end + 2]


if __name__ == "__main__":
    raise SystemExit(main())
