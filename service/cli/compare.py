"""``xiuhua compare`` and ``xiuhua compare-eval``: image comparison (影像对比) from the command line."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import typer

from service.cli.main import app

Image = npt.NDArray[np.uint8]
SCORER_HELP = "Region scorer (.npz) instead of the shipped models/xiuhua-compare."
PATCH_SCORER_HELP = (
    "Patch scorer (.npz, experimental; none is shipped) that rescores the region scorer's promising candidates "
    "from image patches."
)


@app.command("compare")
def compare_command(
    reference: Path = typer.Argument(..., help="Reference image of the place (before)."),
    current: Path = typer.Argument(..., help="Current image of the same place (now)."),
    out: Path = typer.Option(Path("evidence.jpg"), help="Evidence image: reference | current | change."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object to stdout."),
    ignore_mask: Path = typer.Option(
        None, help="Ignore mask: an image (non-zero = ignore) or a JSON of polygons in current pixels."
    ),
    model: str = typer.Option(None, help="Detector to ignore passers-by and label changes (optional)."),
    panel_height: int = typer.Option(540, min=120, help="Height in pixels of each panel of the evidence image."),
    scorer: Path = typer.Option(None, help=SCORER_HELP),
    patch_scorer: Path = typer.Option(None, help=PATCH_SCORER_HELP),
    classical: bool = typer.Option(
        False, "--classical", help="Cut regions out of the change map at one threshold, without the region scorer."
    ),
) -> None:
    """Compare a current image with its reference and report what appeared or disappeared.

    Exit code 2 with one error line when an input is unreadable or the two cannot be the same view.
    """
    from vision.compare import ImageComparer, PairMismatchError, check_pair_shapes, load_ignore_mask, read_image
    from vision.compare.evidence import region_caption, render_evidence
    from vision.errors import VisionError

    try:
        reference_image = read_image(reference)
        current_image = read_image(current)
        problem = check_pair_shapes(reference_image.shape, current_image.shape)
        if problem is not None:
            raise PairMismatchError(f"{current} does not match {reference}: {problem}")
        mask = None if ignore_mask is None else load_ignore_mask(ignore_mask, current_image.shape[:2])
        detections: dict[str, Any] = {} if model is None else _detect(model, reference_image, current_image)
        comparer = ImageComparer(_settings(scorer, patch_scorer, classical))
        result = comparer.compare(reference_image, current_image, ignore_mask=mask, **detections)
    except VisionError as error:
        _fail(str(error))
    title = f"{reference.name} -> {current.name}"
    evidence = render_evidence(reference_image, current_image, result, title=title, panel_height=panel_height)
    _write_image(out, evidence)
    if as_json:
        payload: dict[str, Any] = {
            "aligned": result.aligned,
            "regions": [
                {"box": list(region.box), "kind": region.kind, "label": region.label, "score": round(region.score, 4)}
                for region in result.regions
            ],
        }
        if not result.aligned:
            typer.echo(f"not aligned: {result.reason}", err=True)
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    if not result.aligned:
        typer.echo(f"not aligned: {result.reason}")
    else:
        typer.echo(f"aligned; {len(result.regions)} changed region(s)")
    for region in result.regions:
        typer.echo(f"  {region_caption(region)}  box={list(region.box)}")
    typer.echo(f"evidence: {out}")


@app.command("compare-train")
def compare_train_command(
    pairs: list[Path] = typer.Option(..., help="Folder of labelled pairs (xiuhua synth pairs); repeat for more."),
    out: Path = typer.Option(
        Path("models/xiuhua-compare/region-scorer.npz"), help="Where to write the trained region scorer."
    ),
    cache: Path = typer.Option(None, help="Cache (.npz) of the candidates' features: read if it exists, else written."),
    epochs: int = typer.Option(20, min=1, help="Passes over the candidates."),
    members: int = typer.Option(3, min=1, help="Perceptrons per head, trained from different starts and averaged."),
    hidden: int = typer.Option(32, min=2, help="Width of the perceptrons' two hidden layers."),
    seed: int = typer.Option(0, help="Seed of initialisation, batches, and which pairs see passers' boxes."),
) -> None:
    """Train the region scorer that picks changed regions among candidates, from generated pairs (CPU, numpy)."""
    from vision.compare.evaluate import load_pairs
    from vision.compare.scorer_train import ScorerData, ScorerTraining, collect, save_scorer, train_scorer
    from vision.errors import VisionError

    try:
        if cache is not None and cache.is_file():
            data = ScorerData.load(cache)
        else:
            data = collect((pair for root in pairs for pair in load_pairs(root)), seed=seed, log=typer.echo)
            if cache is not None:
                data.save(cache)
    except (VisionError, ValueError) as error:
        _fail(str(error))
    typer.echo(f"{len(data.targets)} candidates from {len(np.unique(data.pair))} pairs")
    training = ScorerTraining(hidden=hidden, epochs=epochs, seed=seed, members=members)
    weights = train_scorer(data, training, log=typer.echo)
    save_scorer(weights, out)
    typer.echo(f"region scorer: {out}")


@app.command("compare-eval")
def compare_eval_command(
    pairs: Path = typer.Option(..., help="Folder of labelled pairs (reference.*, current.*, truth JSON each)."),
    transients: bool = typer.Option(
        True, help="Ignore the truth's people/vehicle boxes, as a person/vehicle detector would."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
    scorer: Path = typer.Option(None, help=SCORER_HELP),
    patch_scorer: Path = typer.Option(None, help=PATCH_SCORER_HELP),
    classical: bool = typer.Option(
        False, "--classical", help="Cut regions out of the change map at one threshold, without the region scorer."
    ),
) -> None:
    """Score the comparer on labelled pairs: region P/R/F1 per kind, false regions per negative pair."""
    from vision.compare import ImageComparer
    from vision.compare.evaluate import evaluate, find_pairs, load_pairs
    from vision.errors import VisionError

    try:
        if not find_pairs(pairs):
            _fail(f"{pairs}: no pairs found (each needs reference.*, current.* and a JSON file)")
        report = evaluate(
            ImageComparer(_settings(scorer, patch_scorer, classical)), load_pairs(pairs), use_transients=transients
        )
    except VisionError as error:
        _fail(str(error))
    summary = report.to_dict()
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    typer.echo(f"pairs {report.pairs} (negatives {report.negatives}), aligned {report.aligned_rate:.1%}")
    for kind, score in report.per_kind.items():
        typer.echo(
            f"  {kind:5s} P {score.precision:.3f}  R {score.recall:.3f}  F1 {score.f1:.3f}  "
            f"(tp {score.true_positives}, fp {score.false_positives}, fn {score.false_negatives})"
        )
    typer.echo(f"  false regions per negative pair: {report.false_regions_per_negative:.3f}")
    for pair_kind, rate in report.false_regions_by_pair_kind.items():
        typer.echo(f"    {pair_kind}: {rate:.3f}")
    typer.echo(f"  mean {report.mean_milliseconds:.0f} ms per pair")


def _settings(scorer: Path | None, patch_scorer: Path | None, classical: bool) -> Any:
    """Comparer settings for the command's choice of scorers (imports the vision package lazily)."""
    from vision.compare import CompareSettings

    if classical:
        return CompareSettings(scorer=None, patch_scorer=None)
    settings = CompareSettings() if scorer is None else CompareSettings(scorer=str(scorer))
    return settings if patch_scorer is None else replace(settings, patch_scorer=str(patch_scorer))


def _detect(model: str, reference: Image, current: Image) -> dict[str, Any]:
    """Run the detector on both images; keyword arguments for ``ImageComparer.compare``."""
    try:
        from vision.detect import load_detector
    except ImportError:
        _fail(f"{model}: this installation has no detector loader (vision.detect.load_detector)")
    detector = load_detector(model)
    detections_reference, detections_current = detector.detect([reference, current])
    return {
        "detections_reference": detections_reference,
        "detections_current": detections_current,
        "names": detector.info.names,
    }


def _write_image(path: Path, image: Image) -> None:
    import cv2

    suffix = path.suffix.lower() or ".jpg"
    ok, encoded = cv2.imencode(suffix, image)
    if not ok:
        _fail(f"{path}: cannot encode an image of type {suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        encoded.tofile(path)
    except OSError as error:
        _fail(f"{path}: cannot write ({error.strerror})")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
