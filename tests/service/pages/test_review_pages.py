"""The review pages over HTTP (no browser): login, CSRF, the queue, the item page and its actions, readable errors."""

from __future__ import annotations

import re

import pytest
from factories.api import PASSWORD, Harness
from factories.review_pages import SeededQueue
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.api.deps import CSRF_HEADER
from service.api.factory import PUBLIC_PATHS
from service.api.pages import auth as page_auth
from service.api.pages.rendering import CONTENT_SECURITY_POLICY
from service.db.models import Candidate, Case, OutboxMessage, ReviewAction

HTML = {"Accept": "text/html,application/xhtml+xml"}


def page_client(harness: Harness, username: str, role: str = "reviewer") -> tuple[TestClient, str]:
    """A logged-in browser-like client (asks for HTML, no CSRF header preset) and its CSRF token."""
    client = harness.login(username, role)
    token = client.headers.pop(CSRF_HEADER)
    client.headers.update(HTML)
    client.follow_redirects = False
    return client, token


def candidate(harness: Harness, candidate_id: int) -> Candidate:
    with harness.session() as session:
        return session.get_one(Candidate, candidate_id)


def test_pages_send_browsers_to_the_login_form_and_scripts_get_401(harness: Harness, queue: SeededQueue) -> None:
    browser = harness.client(headers=HTML, follow_redirects=False)
    response = browser.get("/review/1?order=score")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Freview%2F1%3Forder%3Dscore"
    assert browser.get("/queue").headers["location"] == "/login?next=%2Fqueue"
    script = harness.client()
    assert script.get("/queue").status_code == 401 and "detail" in script.get("/queue").json()
    expired = browser.post("/review/1/reject", data={"reason": "other"})
    assert expired.status_code == 401 and "log in again" in expired.text and "<html" in expired.text
    assert {"/login", "/static/review.css", "/static/review.js"} <= PUBLIC_PATHS


def test_login_form_logs_in_keeps_the_target_and_logs_out(harness: Harness, queue: SeededQueue) -> None:
    harness.add_user("ana")
    browser = harness.client(headers=HTML, follow_redirects=False)
    form = browser.get("/login?next=/review/2")
    assert form.status_code == 200 and 'name="password"' in form.text and 'for="username"' in form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    fields = {"username": "ana", "csrf_token": token.group(1), "next": "/review/2"}
    wrong = browser.post("/login", data={**fields, "password": "not the password"})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text and "Wrong username or password" in wrong.text
    response = browser.post("/login", data={**fields, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/review/2"
    page = browser.get("/review/2")
    assert page.status_code == 200 and "横幅" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    out = browser.post("/logout", data={"csrf_token": csrf.group(1)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert browser.get("/queue").status_code == 303  # logged out: back to the login form


def test_login_without_the_forms_token_is_refused(harness: Harness) -> None:
    harness.add_user("ana")
    browser = harness.client(headers=HTML, follow_redirects=False)
    response = browser.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403 and "login form expired" in response.text
    assert "xiuhua_session" not in response.cookies


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/review/3?order=score", "/review/3?order=score"),
        ("//evil.example/x", "/queue"),
        ("https://evil.example/", "/queue"),
        ("/\\evil.example", "/queue"),
        ("", "/queue"),
    ],
)
def test_login_goes_on_only_to_our_own_pages(target: str, expected: str) -> None:
    assert page_auth.safe_next(target) == expected


def test_queue_lists_open_items_with_names_thumbnails_and_counts(harness: Harness, queue: SeededQueue) -> None:
    browser, _ = page_client(harness, "ana")
    page = browser.get("/queue")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for text in ("流动摊贩", "Mobile vendor stall", "违法占道", "0501", "横幅", "小广告", "堆物堆料"):
        assert text in page.text
    assert re.search(r"<strong>4</strong> 条待审 open", page.text)
    rows = re.findall(r'name="candidate_id" value="(\d+)"', page.text)
    assert rows == [str(item) for item in queue.candidate_ids]  # oldest first; the confirmed one is not listed
    thumbnails = re.findall(r'<img class="thumb" src="([^"]+)"', page.text)
    assert len(thumbnails) == 4 and all("-crop-" in url for url in thumbnails)
    image = browser.get(thumbnails[0])
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"

    filtered = browser.get(f"/queue?class_name=banner&camera_id={queue.camera_id}")
    assert re.findall(r'name="candidate_id" value="(\d+)"', filtered.text) == [str(queue.candidate_ids[1])]
    by_type = browser.get("/queue?violation_type=illegal_advertising&order=newest")
    assert re.findall(r'name="candidate_id" value="(\d+)"', by_type.text) == ["4", "2"]
    later = browser.get("/queue?seen_after=2026-05-01T14:15")  # local time: 06:15 UTC
    assert re.findall(r'name="candidate_id" value="(\d+)"', later.text) == ["3", "4"]


def test_claim_confirm_reject_and_undo(harness: Harness, queue: SeededQueue) -> None:
    browser, token = page_client(harness, "ana")
    first, second, third, _ = queue.candidate_ids
    claimed = browser.post("/review/claim", data={"csrf_token": token, "q": "order=oldest"})
    assert claimed.status_code == 303 and claimed.headers["location"] == f"/review/{first}"
    item = browser.get(claimed.headers["location"])
    for text in ("流动摊贩", "0501", "无照经营游商", "违法占道", "31.230416, 121.473701", "You hold this item"):
        assert text in item.text
    for kind in ("frame", "crop", "comparison"):
        assert re.search(rf'<img src="/api/evidence/[^"]+-{kind}-[^"]+\.jpg"', item.text)
    assert item.text.count('<circle class="pt') == 5  # itself, three open neighbours and the confirmed one
    assert 'data-shortcut="c"' in item.text and 'data-shortcut="n j"' in item.text

    fields = {"csrf_token": token, "address": "南京东路 100 号", "district": "黄浦区", "street": "南京东路街道"}
    confirmed = browser.post(f"/review/{first}/confirm", data={**fields, "grid": "HP-01", "q": ""})
    assert confirmed.status_code == 303
    assert re.fullmatch(rf"/review/{second}\?done=confirm&done_id={first}&case_id=\d+", confirmed.headers["location"])
    assert "已确认 #1" in browser.get(confirmed.headers["location"]).text
    rejected = browser.post(f"/review/{second}/reject", data={"csrf_token": token, "reason": "false_detection"})
    assert rejected.headers["location"] == f"/review/{third}?done=reject&done_id={second}"
    undone = browser.post("/review/undo", data={"csrf_token": token, "q": ""})
    assert undone.headers["location"] == f"/review/{second}?done=undo&done_id={second}"

    with harness.session() as session:
        case = session.scalars(select(Case)).one()
        assert (case.candidate_id, case.address, case.district, case.grid) == (
            first,
            "南京东路 100 号",
            "黄浦区",
            "HP-01",
        )
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.case_id == case.id))
        reject = session.scalars(select(ReviewAction).where(ReviewAction.action == "reject")).one()
        assert (reject.candidate_id, reject.reason, reject.undone_by_id is not None) == (
            second,
            "false_detection",
            True,
        )
        back = session.get_one(Candidate, second)
        assert back.status == "open" and back.claimed_by_id is not None
        assert session.get_one(Candidate, third).claimed_by_id is None  # released when the undo gave #2 back


def test_state_changes_need_the_csrf_token(harness: Harness, queue: SeededQueue) -> None:
    browser, _ = page_client(harness, "ana")
    target = queue.candidate_ids[0]
    for data in ({"reason": "other"}, {"reason": "other", "csrf_token": "forged"}):
        response = browser.post(f"/review/{target}/reject", data=data)
        assert response.status_code == 403 and "CSRF" in response.text and "请刷新页面后重试" in response.text
    assert browser.post("/queue/bulk", data={"action": "reject", "candidate_id": target}).status_code == 403
    assert browser.post("/logout").status_code == 403
    assert candidate(harness, target).status == "open"


def test_someone_else_holding_the_item_is_said_plainly(harness: Harness, queue: SeededQueue) -> None:
    ana, ana_token = page_client(harness, "ana")
    bo, bo_token = page_client(harness, "bo")
    ana.post("/review/claim", data={"csrf_token": ana_token})
    held = queue.candidate_ids[0]
    page = bo.get(f"/review/{held}")
    assert "Someone else (ana) holds this item" in page.text and "/confirm" not in page.text
    response = bo.post(f"/review/{held}/reject", data={"csrf_token": bo_token, "reason": "other"})
    assert response.status_code == 409
    assert "Someone else holds this item" in response.text and "此条目正由其他审核员处理" in response.text
    assert "ana holds candidate" in response.text and "Traceback" not in response.text
    assert candidate(harness, held).status == "open"


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "says"),
    [
        ("GET", "/review/abc", None, 422, "candidate_id"),
        ("GET", "/review/999", None, 404, "candidate 999 does not exist"),
        ("GET", "/queue?seen_after=yesterday", None, 422, "seen_after"),
        ("GET", "/queue?class_name=unicorn", None, 422, "class_name"),
        ("GET", "/queue?order=random", None, 422, "order"),
        ("GET", "/queue?offset=-5", None, 422, "offset"),
        ("POST", "/review/1/reject", {"reason": "ugly"}, 422, "reason"),
        ("POST", "/review/1/confirm", {"address": "x" * 513}, 422, "address"),
        ("POST", "/review/1/relabel", {"class_name": "unicorn"}, 422, "class_name"),
        ("POST", "/review/1/merge", {"target_id": "1"}, 422, "itself"),
        ("POST", "/review/1/merge", {"target_id": "two"}, 422, "target_id"),
        ("POST", "/queue/bulk", {"action": "reject", "reason": "duplicate"}, 422, "select at least one"),
        ("POST", "/queue/bulk", {"action": "reject", "candidate_id": "1"}, 422, "choose why"),
        ("POST", "/queue/bulk", {"action": "delete", "candidate_id": "1"}, 422, "action"),
        ("POST", "/review/undo", {}, 404, "nothing of yours to undo"),
    ],
)
def test_bad_input_gets_a_readable_page(
    harness: Harness, queue: SeededQueue, method: str, path: str, data: dict[str, str] | None, status: int, says: str
) -> None:
    browser, token = page_client(harness, "ana")
    form = {**(data or {}), "csrf_token": token}
    response = browser.get(path) if method == "GET" else browser.post(path, data=form)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert says in response.text and "Traceback" not in response.text
    assert "回到队列 Back to the queue" in response.text


def test_bulk_reject_reports_each_item(harness: Harness, queue: SeededQueue) -> None:
    ana, ana_token = page_client(harness, "ana")
    bo, bo_token = page_client(harness, "bo")
    bo.post("/review/claim", data={"csrf_token": bo_token})  # bo holds the oldest
    first, second, third, _ = queue.candidate_ids
    response = ana.post(
        "/queue/bulk",
        data={
            "csrf_token": ana_token,
            "action": "reject",
            "reason": "duplicate",
            "candidate_id": [first, second, third],
        },
    )
    assert response.status_code == 200
    assert "2 rejected (duplicate): #2, #3" in response.text
    assert f"candidate {first} is claimed by user" in response.text
    assert [candidate(harness, item).status for item in (first, second, third)] == ["open", "rejected", "rejected"]
    confirmed = ana.post("/queue/bulk", data={"csrf_token": ana_token, "action": "confirm", "candidate_id": [4]})
    assert "1 confirmed" in confirmed.text
    with harness.session() as session:
        assert session.scalars(select(Case.candidate_id)).all() == [4]


def test_relabel_merge_and_release(harness: Harness, queue: SeededQueue) -> None:
    browser, token = page_client(harness, "ana")
    first, second, third, fourth = queue.candidate_ids
    browser.post("/review/claim", data={"csrf_token": token})
    relabelled = browser.post(f"/review/{first}/relabel", data={"csrf_token": token, "class_name": "banner"})
    assert relabelled.headers["location"] == f"/review/{first}?done=relabel&done_id={first}"
    page = browser.get(relabelled.headers["location"])
    assert "#1 横幅" in page.text and "0202" in page.text and "已更改 #1 的类别" in page.text
    merged = browser.post(f"/review/{second}/merge", data={"csrf_token": token, "target_id": str(third)})
    assert merged.headers["location"] == f"/review/{first}?done=merge&done_id={second}&into_id={third}"
    assert (candidate(harness, second).status, candidate(harness, second).merged_into_id) == ("merged", third)
    released = browser.post(f"/review/{first}/release", data={"csrf_token": token, "q": "class_name=banner"})
    assert released.headers["location"] == f"/queue?class_name=banner&done=release&done_id={first}"
    assert candidate(harness, first).claimed_by_id is None
    assert candidate(harness, fourth).status == "open"


def test_item_page_links_its_neighbours_in_queue_order(harness: Harness, queue: SeededQueue) -> None:
    browser, _ = page_client(harness, "ana")
    first, second, third, fourth = queue.candidate_ids

    def links(path: str) -> tuple[str | None, str | None]:
        text = browser.get(path).text
        previous = re.search(r'<a href="([^"]+)" data-shortcut="p k"', text)
        following = re.search(r'<a href="([^"]+)" data-shortcut="n j"', text)
        return (previous.group(1) if previous else None, following.group(1) if following else None)

    assert links(f"/review/{first}") == (None, f"/review/{second}")
    assert links(f"/review/{third}") == (f"/review/{second}", f"/review/{fourth}")
    assert links(f"/review/{second}?order=score") == (f"/review/{first}?order=score", f"/review/{third}?order=score")
    assert links(f"/review/{fourth}?violation_type=illegal_advertising") == (
        f"/review/{second}?violation_type=illegal_advertising",
        None,
    )


def test_pages_load_nothing_from_other_hosts(harness: Harness, queue: SeededQueue) -> None:
    browser, _ = page_client(harness, "ana")
    for path in ("/queue", f"/review/{queue.candidate_ids[0]}", "/login"):
        text = browser.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//(?!www\.openstreetmap\.org/)', text), path
        assert "<script>" not in text and "style=" not in text  # the CSP allows neither
    for asset, media_type in (("review.js", "text/javascript"), ("review.css", "text/css")):
        response = harness.client().get(f"/static/{asset}")  # public: the login page needs them
        assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
    assert browser.get("/").headers["location"] == "/queue"
