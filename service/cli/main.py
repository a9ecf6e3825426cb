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


def _register() -> None:
    # Each command module adds itself to ``app``; imports stay light (heavy runtimes load lazily).
    from service.cli import compare, data, detect, model, synth  # noqa: F401


_register()

if __name__ == "__main__":
    app()
