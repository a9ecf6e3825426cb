"""Entry point of the ``xiuhua`` command: one Typer app, one module per command group."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="xiuhua",
    help="Find illegal construction, street occupation and advertising in city video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# --conf of the commands that track (the ratio is service.pipeline.source.DEFAULT_LOW_RATIO, not imported: heavy).
CONF_HELP = "Tracks start at this confidence, boxes down to 0.4 of it continue them (default: the card's)."


def _register() -> None:
    # Each command module adds itself to ``app`` on import, or through its ``register(app)``; imports stay light
    # (heavy runtimes load lazily inside the commands).
    from service.cli import (  # noqa: F401  (the ones not named below register themselves on import)
        cameras,
        candidates,
        compare,
        data,
        detect,
        ingest,
        model,
        pipeline_eval,
        post,
        references,
        review,
        scan,
        serve,
        synth,
        users,
        watch,
    )

    for module in (candidates, ingest, post, review, serve, users):
        module.register(app)


_register()

if __name__ == "__main__":
    app()
