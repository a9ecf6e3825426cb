"""Stream config files: both layouts, defaults, relative files, and errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.streams import SpecError, StreamConfigError, StreamSpec, load_stream_config, redact_url


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "streams.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_cameras_mapping_with_defaults_and_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
cameras:
  - key: cam-012
    url: rtsp://admin:secret@10.0.0.12/main
    name: 第三中学门口
  - key: 7
    url: clips/patrol.mp4
    kind: patrol
    fps: all
    gate: true
    gate_ignore: [[0, 0, 0.35, 0.08]]
""",
    )

    first, second = load_stream_config(path)

    assert first == StreamSpec(key="cam-012", url="rtsp://admin:secret@10.0.0.12/main")
    assert first.kind == "fixed" and first.fps == 2.0 and first.gate_enabled
    assert first.safe_url == "rtsp://admin:***@10.0.0.12/main"
    assert second.key == "7" and second.url == str(tmp_path / "clips" / "patrol.mp4")
    assert second.fps is None and second.sampling.mode == "all"
    assert second.gate_enabled and second.gate_ignore == ((0, 0, 0.35, 0.08),)


def test_a_plain_list_and_patrol_cameras_are_not_gated_by_default(tmp_path: Path) -> None:
    path = write(tmp_path, "- {key: a, url: 'http://127.0.0.1/a.mjpg', kind: patrol, fps: 5fps}\n")

    (spec,) = load_stream_config(path)

    assert spec.fps == 5.0 and not spec.gate_enabled


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("- {url: 'rtsp://x/1'}", "cameras[0].key", "missing"),
        ("- {key: a}", "cameras[0].url", "missing"),
        ("- {key: a, url: 'rtsp://x/1', fsp: 2}", "cameras[0].fsp", "unknown field"),
        ("- {key: a, url: 'rtsp://x/1', fps: -1}", "cameras[0].fps", "positive number"),
        ("- {key: a, url: 'rtsp://x/1', fps: fast}", "cameras[0].fps", "positive number"),
        ("- {key: a, url: 'rtsp://x/1', kind: drone}", "cameras[0].kind", "not one of"),
        ("- {key: a, url: 'rtsp://x/1', gate: maybe}", "cameras[0].gate", "true or false"),
        ("- {key: a, url: 'rtsp://x/1', gate_ignore: [[0, 0, 2, 1]]}", "cameras[0].gate_ignore[0]", "x2 <= 1"),
        ("- {key: a, url: 'rtsp://x/1', gate_ignore: [[0, 0]]}", "cameras[0].gate_ignore[0]", "four numbers"),
        ("- {key: a, url: 'rtsp://x/1'}\n- {key: a, url: 'rtsp://x/2'}", "cameras[1].key", "also used by cameras[0]"),
        ("- just-a-url", "cameras[0]", "must be a mapping"),
        ("cameras: {key: a}", "cameras", "must be a list"),
        ("streams: []", "streams", "unknown field"),
        ("", "file", "empty"),
        ("42", "file", "expected a list"),
        ("- {key: a, url: [unclosed", "line 1", "not valid YAML"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path: Path, text: str, field: str, reason: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(StreamConfigError) as caught:
        load_stream_config(path)

    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}: {field}: ")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(StreamConfigError, match=r"gone\.yaml: file: cannot read"):
        load_stream_config(tmp_path / "gone.yaml")


def test_spec_errors_name_the_field() -> None:
    with pytest.raises(SpecError) as caught:
        StreamSpec(key="", url="rtsp://x/1")
    assert caught.value.field == "key"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:secret@10.0.0.12:554/main", "rtsp://admin:***@10.0.0.12:554/main"),
        ("rtsp://10.0.0.12/main", "rtsp://10.0.0.12/main"),
        ("videos/patrol.mp4", "videos/patrol.mp4"),
    ],
)
def test_passwords_are_hidden(url: str, shown: str) -> None:
    assert redact_url(url) == shown
