"""``xiuhua data``: prepare the real datasets we train and evaluate on."""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.main import app

data_app = typer.Typer(help="Prepare datasets (real photos) for training and evaluation.", no_args_is_help=True)
app.add_typer(data_app, name="data")

DEFAULT_FACADE_SOURCE = Path("../shared/data/facade-ads")


@data_app.command("facade")
def facade(
    source: Path = typer.Option(DEFAULT_FACADE_SOURCE, help="The facade-ads folder (images/ + labels/)."),
    out: Path = typer.Option(Path("datasets/facade"), help="Where to write the YOLO dataset."),
) -> None:
    """Write the facade photos as a YOLO dataset in our class names, split 70/15/15 by file-name hash."""
    from vision.errors import VisionError
    from vision.training.facade import prepare_facade_dataset

    try:
        result = prepare_facade_dataset(source, out, _class_names())
    except VisionError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"wrote {result.data_yaml}: images {result.images}, instances {result.instances}")


def _class_names() -> list[str]:
    from vision.taxonomy import load_taxonomy

    return list(load_taxonomy().class_names)
