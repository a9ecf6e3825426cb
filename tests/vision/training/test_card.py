"""Model card rendering: what a reader of models/<name>/README.md sees."""

from __future__ import annotations

from vision.training.card import ModelCard, render_readme

MIX = {"yaml": "datasets/xiuhua-mix.yaml", "kind": "mixed", "source": "synthetic seed 1 + facade train"}
FACADE = {"yaml": "datasets/facade/data.yaml", "kind": "real", "source": "facade train"}


def _card(stage_data: list[dict[str, str]]) -> ModelCard:
    stages = [
        {"run": f"runs/train/stage{n}", "model": "m.pt", "data": data, "epochs": 8, "epochs_completed": 8}
        for n, data in enumerate(stage_data, start=1)
    ]
    training = {"data": [s["data"] for s in stages], "epochs": 8, "stages": stages}
    return ModelCard(name="m", classes=("signboard",), imgsz=(512, 512), training=training)


def test_data_trained_on_in_several_stages_is_listed_once() -> None:
    text = render_readme(_card([FACADE, MIX, MIX, MIX]))
    data_lines = [line for line in text.splitlines() if line.startswith("- Data:")]
    assert len(data_lines) == 2
    assert "facade/data.yaml" in data_lines[0] and "xiuhua-mix.yaml" in data_lines[1]
    stage_rows = [line for line in text.splitlines() if line.startswith("| ") and "m.pt" in line]
    assert len(stage_rows) == 4
