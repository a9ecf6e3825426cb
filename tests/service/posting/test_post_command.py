"""``xiuhua post``: one round against a real local platform, dead letters listed and retried, bad settings named."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import numpy.typing as npt
import pytest
import typer
from factories.database import created_engine
from factories.posting import FakeCityPlatform, add_candidate, add_case, add_evidence, confirm_cases
from typer.testing import CliRunner

from service.cli.post import register
from service.db import session_factory
from service.posting.outbox import enqueue_case
from service.posting.sender import OutboxSender
from service.posting.settings import PostingSettings

runner = CliRunner()
POSTER_PHOTO = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "facade-ads" / "images" / "img_413.jpg"
POSTER_FACE = (789, 385, 843, 439)  # x1, y1, x2, y2: the man's face on the advertisement in img_413.jpg


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("other")  # a second command, so Typer keeps "post" as a subcommand like in xiuhua
    def other() -> None:
        pass

    return app


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No XIUHUA_POST_* / XIUHUA_MQTT_* settings around."""
    for variable in (
        "XIUHUA_POST_URL",
        "XIUHUA_MQTT_HOST",
        "XIUHUA_POST_MAX_ATTEMPTS",
        "XIUHUA_POST_BLUR_FACES",
        "XIUHUA_POST_FACE_MODEL",
    ):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def database(tmp_path: Path, no_settings: None) -> Iterator[str]:
    """A SQLite database with three confirmed cases waiting in the outbox; no XIUHUA_* settings around."""
    with created_engine("sqlite", tmp_path) as engine:
        with session_factory(engine)() as session, session.begin():
            confirm_cases(session, 3)
        yield engine.url.render_as_string(hide_password=False)


def test_one_round_sends_every_due_case(app: typer.Typer, database: str) -> None:
    with FakeCityPlatform() as platform:
        result = runner.invoke(app, ["post", "--url", platform.url, "--database", database])
    assert result.exit_code == 0, result.output
    assert "claimed 3, sent 3, retried 0, dead 0" in result.stderr
    assert len(platform.cases) == 3


def test_dead_letters_are_listed_and_can_be_retried(
    app: typer.Typer, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeCityPlatform(then="422") as platform:
        assert runner.invoke(app, ["post", "--url", platform.url, "--database", database]).exit_code == 0
        listing = runner.invoke(app, ["post", "--dead", "--database", database])
        assert listing.exit_code == 0, listing.output
        lines = listing.stdout.strip().splitlines()
        assert len(lines) == 3 and "3 dead letter(s)" in listing.stderr
        assert all("\thttp\tcase\t1 attempts\txiuhua-case-" in line and "HTTP 422" in line for line in lines)
        first_id = lines[0].split("\t")[0]
        retried = runner.invoke(app, ["post", "--retry", first_id, "--database", database])
        assert retried.exit_code == 0 and f"message {first_id} " in retried.stdout
        platform.then = "ok"
        again = runner.invoke(app, ["post", "--url", platform.url, "--database", database])
    assert "claimed 1, sent 1" in again.stderr
    assert len(platform.cases) == 1
    still_dead = runner.invoke(app, ["post", "--dead", "--database", database])
    assert len(still_dead.stdout.strip().splitlines()) == 2
    wrong = runner.invoke(app, ["post", "--retry", first_id, "--database", database])
    assert wrong.exit_code == 2 and "is sent, not dead" in wrong.stderr


def test_nothing_to_send_to_is_an_error(app: typer.Typer, database: str) -> None:
    result = runner.invoke(app, ["post", "--database", database])
    assert result.exit_code == 2
    assert "--url" in result.stderr


def test_face_blurring_without_a_detector_stops_before_anything_is_claimed(
    app: typer.Typer, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIUHUA_POST_BLUR_FACES", "1")
    monkeypatch.setenv("XIUHUA_POST_FACE_MODEL", str(tmp_path / "missing-yunet.onnx"))
    with FakeCityPlatform() as platform:
        result = runner.invoke(app, ["post", "--url", platform.url, "--database", database])
        assert result.exit_code == 2 and "XIUHUA_POST_BLUR_FACES" in result.stderr
        assert "face model file not found" in result.stderr and platform.requests == 0
        monkeypatch.setenv("XIUHUA_POST_BLUR_FACES", "0")  # photos are plain text here: nothing to blur
        again = runner.invoke(app, ["post", "--url", platform.url, "--database", database])
    assert "claimed 3, sent 3" in again.stderr, "nothing was claimed or dead-lettered by the refused run"


def _detail(jpeg: bytes, box: tuple[int, int, int, int]) -> float:
    """Mean absolute Laplacian inside ``box`` of a JPEG: the fine detail that blurring removes."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    x1, y1, x2, y2 = box
    patch: npt.NDArray[np.float32] = cv2.Laplacian(image[y1:y2, x1:x2], cv2.CV_32F)
    return float(np.abs(patch).mean())


@pytest.mark.usefixtures("no_settings")
def test_face_blurring_works_without_a_face_model(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XIUHUA_POST_BLUR_FACES=1 alone: OpenCV's bundled Haar cascade finds and blurs a real face before sending."""
    if not POSTER_PHOTO.is_file():
        pytest.skip(f"no street photo at {POSTER_PHOTO}")
    photo, evidence = POSTER_PHOTO.read_bytes(), tmp_path / "evidence"
    with created_engine("sqlite", tmp_path) as engine:
        with session_factory(engine)() as session, session.begin():
            candidate = add_candidate(session)
            add_evidence(session, candidate=candidate, folder=evidence, kind="frame", data=photo)
            enqueue_case(session, case=add_case(session, candidate=candidate))
        monkeypatch.setenv("XIUHUA_POST_BLUR_FACES", "1")
        monkeypatch.setenv("XIUHUA_POST_PHOTOS", "inline")
        monkeypatch.setenv("XIUHUA_EVIDENCE_DIR", str(evidence))
        with FakeCityPlatform() as platform:
            url = engine.url.render_as_string(hide_password=False)
            result = runner.invoke(app, ["post", "--url", platform.url, "--database", url])
    assert result.exit_code == 0, result.output
    assert "claimed 1, sent 1" in result.stderr
    ((frame,),) = [payload["photos"] for payload in platform.cases.values()]
    sent = base64.b64decode(frame["data_base64"])
    assert sent != photo and _detail(sent, POSTER_FACE) < 0.5 * _detail(photo, POSTER_FACE), "the face is blurred"
    assert (evidence / f"{candidate.id}/frame.jpg").read_bytes() == photo, "the evidence file is untouched"


def test_a_database_without_tables_is_named(app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["post", "--url", "http://127.0.0.1:9/x", "--database", f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 2
    assert "error:" in result.stderr and "outbox" in result.stderr


def test_run_forever_sends_until_stopped(tmp_path: Path) -> None:
    with created_engine("sqlite", tmp_path) as engine:
        sessions = session_factory(engine)
        with sessions() as session, session.begin():
            confirm_cases(session, 4)
        stop = threading.Event()
        with FakeCityPlatform(["503"]) as platform, httpx.Client() as client:
            settings = PostingSettings(url=platform.url, backoff_base_s=0.05, jitter=0, evidence_dir=tmp_path)
            worker = threading.Thread(target=OutboxSender(settings, client, sessions).run_forever, args=(stop, 0.02))
            worker.start()
            try:
                for _ in range(500):  # up to ~10 s on a loaded machine
                    if len(platform.cases) == 4:
                        break
                    stop.wait(0.02)
            finally:
                stop.set()
                worker.join(10)
        assert not worker.is_alive()
        assert len(platform.cases) == 4 and max(platform.accepted.values()) == 1
