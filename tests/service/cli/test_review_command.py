"""``xiuhua review export`` through a Typer app with only the review group registered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from factories.database import created_engine
from factories.review import NOW, add_sighting, make_candidates, make_user
from PIL import Image
from typer.testing import CliRunner

from service.cli import review
from service.db import session_factory
from service.review import confirm

runner = CliRunner()


def review_app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command keeps "review" a subcommand
    review.register(app)
    return app


def test_export_writes_a_dataset_and_reports_it(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    Image.fromarray(np.zeros((50, 100, 3), np.uint8)).save(evidence / "f.png")
    with created_engine("sqlite", tmp_path) as engine, session_factory(engine)() as session:
        alice = make_user(session, "alice")
        (item,) = make_candidates(session, 1)
        add_sighting(session, item, track_key="t", box=(0, 0, 50, 25), frame_path="f.png", kind="source")
        confirm(session, candidate_id=item.id, user_id=alice.id, now=NOW)
        session.commit()
        url = engine.url.render_as_string(hide_password=False)
        out = tmp_path / "dataset"
        args = ["review", "export", "--database", url, "--evidence-dir", str(evidence), "--out", str(out)]

        result = runner.invoke(review_app(), [*args, "--val-fraction", "0", "--since", "2026-05-01T19:00:00+08:00"])
        assert result.exit_code == 0, result.output
        assert "1 images (1 labelled, 0 negatives), 1 boxes from 1 candidates; 0 skipped" in result.stdout
        (label,) = (out / "labels" / "train").iterdir()
        assert label.read_text() == "0 0.250000 0.250000 0.500000 0.500000\n"

        again = runner.invoke(review_app(), args)
        assert again.exit_code == 2 and "not an empty folder" in again.output
        naive = runner.invoke(review_app(), [*args, "--since", "2026-05-01T12:00:00"])
        assert naive.exit_code == 2 and "no time zone" in naive.output
