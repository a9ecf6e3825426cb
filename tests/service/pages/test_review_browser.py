"""A reviewer in headless Chromium: log in, claim, confirm with ``c``, reject with ``1``, undo with ``u``.

Runs the real app under uvicorn on a free local port against a seeded SQLite database, drives Debian's chromium
through Playwright and checks the database afterwards. Skips (saying why) when chromium or Playwright is missing.
With ``XIUHUA_SCREENSHOT=1`` it also writes the README's screenshot, ``docs/review-page.png``.
"""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import PIL.Image
import pytest
import uvicorn
from factories.api import PASSWORD, SECRET
from factories.review_pages import SeededQueue, add_reviewer, seed_queue
from sqlalchemy import Engine, select

from service.api import ApiSettings, create_app
from service.db import session_factory
from service.db.models import Candidate, Case, OutboxMessage, ReviewAction
from service.evidence import EvidenceStore

CHROMIUM = Path(os.environ.get("XIUHUA_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "review-page.png"
TIMEOUT_MS = 15_000

if not CHROMIUM.is_file():
    pytest.skip(
        f"Debian chromium is not installed at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True
    )

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    pytest.skip("Playwright is not installed (pip install playwright)", allow_module_level=True)


@dataclass(frozen=True)
class Served:
    """The app running under uvicorn: its base URL, database and seeded queue."""

    url: str
    engine: Engine
    queue: SeededQueue


def save_screenshot(png: bytes, path: Path) -> None:
    """Write the README screenshot as a 256-colour PNG (a page of flat colours loses nothing visible; 3-4x smaller)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = PIL.Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=PIL.Image.Quantize.FASTOCTREE).save(path, optimize=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(engine: Engine, tmp_path: Path, password_hash: str) -> Iterator[Served]:
    """The app (real clock) on 127.0.0.1:<free port> in a thread, with four open items and a reviewer ``ana``."""
    evidence_root = tmp_path / "data" / "evidence"
    evidence_root.mkdir(parents=True)
    with session_factory(engine)() as session:
        queue = seed_queue(session, EvidenceStore(evidence_root))
        add_reviewer(session, "ana", password_hash)
        session.commit()
    app = create_app(ApiSettings(session_secret=SECRET), engine=engine, evidence_root=evidence_root)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", engine, queue)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def page(served: Served) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


def test_a_reviewer_works_through_the_queue_with_the_keyboard(served: Served, page: Page) -> None:
    first, second, third, _ = served.queue.candidate_ids
    page.goto(f"{served.url}/queue")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fqueue$"))
    page.get_by_label("用户名 Username").fill("ana")
    page.get_by_label("密码 Password").fill(PASSWORD)
    page.get_by_role("button", name="登录 Log in").click()
    expect(page).to_have_url(f"{served.url}/queue")
    expect(page.locator("table.queue tbody tr")).to_have_count(4)
    expect(page.locator("#counts")).to_contain_text("4 条待审 open")
    assert all(page.locator("img.thumb").evaluate_all("images => images.map(image => image.naturalWidth > 0)"))

    page.locator("#select-all").check()
    expect(page.locator('input[name="candidate_id"]:checked')).to_have_count(4)
    page.locator("#select-all").uncheck()

    page.keyboard.press("n")  # claim next
    expect(page).to_have_url(f"{served.url}/review/{first}")
    expect(page.locator("h1")).to_contain_text("流动摊贩")
    expect(page.locator(".facts")).to_contain_text("0501 无照经营游商")
    page.keyboard.press("?")
    expect(page.locator("dialog#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#help")).to_be_hidden()

    page.keyboard.press("c")
    expect(page.locator("#address")).to_be_focused()
    page.keyboard.type("南京东路 100 号")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/review/{second}\?done=confirm&done_id={first}&case_id=\d+$"))
    expect(page.locator(".notice")).to_contain_text(f"Confirmed #{first}")

    page.keyboard.press("1")
    expect(page).to_have_url(f"{served.url}/review/{third}?done=reject&done_id={second}")
    page.keyboard.press("u")
    expect(page).to_have_url(f"{served.url}/review/{second}?done=undo&done_id={second}")
    expect(page.locator(".claim")).to_contain_text("You hold this item")
    if os.environ.get("XIUHUA_SCREENSHOT") == "1":
        save_screenshot(page.screenshot(), SCREENSHOT)
    page.keyboard.press("l")
    expect(page.locator("#class_name")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    expect(page).to_have_url(f"{served.url}/review/{third}")
    page.keyboard.press("k")
    expect(page).to_have_url(f"{served.url}/review/{second}")

    with session_factory(served.engine)() as session:
        case = session.scalars(select(Case)).one()
        assert (case.candidate_id, case.address, case.event_code) == (first, "南京东路 100 号", "0501")
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)).all()
        reject = session.scalars(select(ReviewAction).where(ReviewAction.action == "reject")).one()
        assert (reject.candidate_id, reject.reason) == (second, "false_detection")
        assert reject.undone_by_id is not None
        assert session.get_one(Candidate, second).status == "open"
