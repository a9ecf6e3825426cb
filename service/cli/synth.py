"""``xiuhua synth ...``: synthetic street scenes for training and testing the detector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from service.cli.main import app

synth_app = typer.Typer(help="Render synthetic street scenes (stalls, piles, banners, ads, sheds) with labels.")
app.add_typer(synth_app, name="synth")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"size must look like 960x540, got {text!r}") from None
    if not (32 <= width <= 8192 and 32 <= height <= 8192):
        raise typer.BadParameter(f"size {width}x{height} is outside 32..8192 pixels")
    return width, height


def _tick(bar: Any) -> None:
    bar.update(1)


@synth_app.command("scenes")
def scenes_command(
    out: Path = typer.Option(..., help="Dataset folder to write (images/, labels/, data.yaml)."),
    seed: int = typer.Option(0, help="Dataset seed: the same seed gives byte-identical images and labels."),
    count: int = typer.Option(1000, min=1, help="Number of images."),
    size: str = typer.Option("960x540", help="Image size WIDTHxHEIGHT."),
    val_fraction: float = typer.Option(0.1, min=0.0, max=1.0, help="Share of images in val (1.0: held-out set)."),
    workers: int = typer.Option(1, min=1, help="Rendering processes."),
) -> None:
    """Write a YOLO dataset of synthetic street scenes in the product's class vocabulary."""
    from tqdm import tqdm

    from vision.synth.classes import CLASS_NAMES
    from vision.synth.dataset import write_dataset

    with tqdm(total=count, unit="img", disable=None) as bar:
        summary = write_dataset(out, seed, count, _size(size), val_fraction, workers, lambda _done: _tick(bar))
    typer.echo(f"wrote {summary.train} train + {summary.val} val images to {out} in {summary.seconds:.1f} s "
               f"({count / max(summary.seconds, 1e-9):.1f} images/s); data: {summary.data_yaml}")  # fmt: skip
    for name, boxes, images in zip(CLASS_NAMES, summary.boxes_per_class, summary.images_per_class, strict=True):
        typer.echo(f"  {name:20s} {boxes:7d} boxes in {images:6d} images ({100 * images / count:5.1f} %)")


@synth_app.command("preview")
def preview_command(
    out: Path = typer.Option(Path("synth_preview.png"), help="Contact sheet image to write."),
    seed: int = typer.Option(0, help="Dataset seed."),
    count: int = typer.Option(16, min=1, max=64, help="Number of images on the sheet."),
    size: str = typer.Option("960x540", help="Image size WIDTHxHEIGHT."),
    columns: int = typer.Option(4, min=1, help="Images per row."),
) -> None:
    """Render a labelled contact sheet (boxes and class names drawn) to judge the scenes by eye."""
    import cv2

    from vision.synth.preview import contact_sheet

    sheet = contact_sheet(seed, count, _size(size), columns)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet):
        raise typer.BadParameter(f"cannot write an image to {out}")
    typer.echo(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]})")


@synth_app.command("pairs")
def pairs_command(
    out: Path = typer.Option(..., help="Folder to write pair_NNNNNN/{reference.jpg,current.jpg,truth.json} into."),
    seed: int = typer.Option(0, help="Pair set seed: the same seed gives the same pairs."),
    count: int = typer.Option(100, min=1, help="Number of pairs."),
    size: str = typer.Option("960x540", help="Image size WIDTHxHEIGHT (1920x1080 works too)."),
    workers: int = typer.Option(1, min=1, help="Rendering processes."),
) -> None:
    """Write reference/current pairs of the same place with the truth of what appeared or disappeared.

    Half the pairs are changes (objects new or gone); the rest are negatives: light only, a small camera
    shift only, or other passers-by only. The truth JSON is what ``xiuhua compare-eval`` reads.
    """
    from vision.synth.pairs import write_pairs

    summary = write_pairs(out, seed, count, _size(size), workers)
    kinds = ", ".join(f"{kind} {n}" for kind, n in summary.pairs_by_kind.items())
    regions = ", ".join(f"{kind} {n}" for kind, n in summary.regions_by_kind.items())
    typer.echo(f"wrote {count} pairs to {out} in {summary.seconds:.1f} s: {kinds}; regions: {regions}")


@synth_app.command("patrol")
def patrol_command(
    out: Path = typer.Option(..., help="Folder for pass_K.mp4, pass_K.gpx, pass_K_frames.jsonl and truth.json."),
    seed: int = typer.Option(0, help="Street seed."),
    passes: int = typer.Option(3, min=1, max=20, help="Drives along the street, on different days."),
    fps: float = typer.Option(10.0, min=0.5, max=30.0, help="Frames per second of the videos."),
    size: str = typer.Option("960x540", help="Frame size WIDTHxHEIGHT (even numbers)."),
) -> None:
    """Render patrol-vehicle clips of one street on several days, with GPX tracks and the violations' map positions."""
    from tqdm import tqdm

    from vision.synth.patrol import patrol_frame_count, write_patrol

    with tqdm(total=patrol_frame_count(seed, passes, fps), unit="frame", disable=None) as bar:
        summary = write_patrol(out, seed, passes, fps, _size(size), lambda n: _tick(bar))
    typer.echo(f"wrote {summary.passes} passes ({summary.frames} frames) to {out} in {summary.seconds:.1f} s; "
               f"{summary.violations} violations in truth.json")  # fmt: skip


@synth_app.command("fixed")
def fixed_command(
    out: Path = typer.Option(..., help="Folder for clip.mp4, frames.jsonl and truth.json."),
    seed: int = typer.Option(0, help="Clip seed."),
    minutes: float = typer.Option(5.0, min=0.05, max=60.0, help="Clip length in minutes."),
    fps: float = typer.Option(2.0, min=0.2, max=30.0, help="Frames per second."),
    size: str = typer.Option("960x540", help="Frame size WIDTHxHEIGHT (even numbers)."),
) -> None:
    """Render a fixed-camera clip: a vendor stays for minutes, another stops briefly, passers-by come and go."""
    from tqdm import tqdm

    from vision.synth.fixed import write_fixed

    with tqdm(total=max(int(minutes * 60 * fps), 1), unit="frame", disable=None) as bar:
        summary = write_fixed(out, seed, minutes, fps, _size(size), lambda n: _tick(bar))
    typer.echo(
        f"wrote {summary.frames} frames to {out} in {summary.seconds:.1f} s; {summary.vendors} vendors in truth.json"
    )
