"""Authentication everywhere but /healthz; login cookies with CSRF; bearer tokens; roles."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from factories.api import PASSWORD, Harness
from fastapi import APIRouter, Form
from fastapi.routing import iter_route_contexts

from service.api import pages
from service.api.deps import UserDep
from service.api.factory import PUBLIC_PATHS


def operations(harness: Harness) -> list[tuple[str, str]]:
    """Every (method, concrete path) the app serves, path parameters filled in."""
    found = []
    for route in iter_route_contexts(harness.app.routes):
        path = re.sub(r"\{\w+:path\}", "a/b.jpg", route.path or "")
        path = re.sub(r"\{\w+\}", "1", path)
        found += [(method, path) for method in sorted((route.methods or set()) - {"HEAD"})]
    return found


def test_every_endpoint_but_health_and_login_needs_auth(harness: Harness) -> None:
    anonymous = harness.client()
    forged = harness.client(headers={"Authorization": "Bearer xh_not-a-token"})
    ops = operations(harness)
    assert len(ops) > 15 and ("GET", "/docs") in ops and ("POST", "/api/uploads") in ops
    for method, path in ops:
        if path in PUBLIC_PATHS:
            continue
        for client in (anonymous, forged):
            response = client.request(method, path)
            assert response.status_code == 401, f"{method} {path}: {response.status_code} {response.text}"
            assert "detail" in response.json()
    # Public: health, the login endpoint, and the review pages' login form and their own CSS/JS.
    assert {path for _, path in ops} & PUBLIC_PATHS == {"/healthz", "/api/auth/login"} | pages.PUBLIC_PATHS
    assert anonymous.get("/healthz").json() == {"status": "ok"}


def test_login_sets_a_signed_httponly_lax_cookie(harness: Harness) -> None:
    harness.add_user("ana")
    client = harness.client()
    response = client.post("/api/auth/login", json={"username": "ana", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "ana" and body["role"] == "reviewer" and body["csrf_token"]
    session_cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("xiuhua_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie and "Path=/" in session_cookie
    assert client.get("/api/auth/me").json()["csrf_token"] == body["csrf_token"]
    assert client.get("/api/cameras").status_code == 200


@pytest.mark.parametrize(
    ("username", "password", "active"),
    [("ana", "wrong password!", True), ("nobody", PASSWORD, True), ("ana", PASSWORD, False)],
)
def test_login_refused(harness: Harness, username: str, password: str, active: bool) -> None:
    harness.add_user("ana", active=active)
    response = harness.client().post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json()["detail"] == "wrong username or password"
    assert "xiuhua_session" not in response.cookies


def test_state_changes_with_a_cookie_need_the_csrf_token(harness: Harness) -> None:
    client = harness.login("root", "admin", csrf=False)
    camera = {"key": "cam-1", "kind": "fixed"}
    refused = client.post("/api/cameras", json=camera)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert client.post("/api/cameras", json=camera, headers={"X-CSRF-Token": "forged"}).status_code == 403
    other = harness.login("other", "admin")  # a valid token, but of another session
    assert (
        client.post("/api/cameras", json=camera, headers={"X-CSRF-Token": other.headers["X-CSRF-Token"]}).status_code
        == 403
    )
    token = client.get("/api/auth/me").json()["csrf_token"]
    assert client.get("/api/cameras").status_code == 200  # reading needs no token
    assert client.post("/api/cameras", json=camera, headers={"X-CSRF-Token": token}).status_code == 201


def test_csrf_token_in_a_form_field(make_harness: Callable[..., Harness]) -> None:
    router = APIRouter()

    @router.post("/test/form")
    def form_endpoint(user: UserDep, note: str = Form()) -> dict[str, str]:
        return {"note": note, "user": user.username}

    harness = make_harness(extra_routers=(router,))
    client = harness.login("ana", csrf=False)
    token = client.get("/api/auth/me").json()["csrf_token"]
    assert client.post("/test/form", data={"note": "hi"}).status_code == 403
    response = client.post("/test/form", data={"note": "hi", "csrf_token": token})
    assert response.status_code == 200 and response.json() == {"note": "hi", "user": "ana"}


def test_cross_origin_cookie_requests_are_refused(harness: Harness) -> None:
    client = harness.login("root", "admin")
    response = client.post(
        "/api/cameras", json={"key": "c", "kind": "fixed"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403 and "evil.example" in response.json()["detail"]
    same = client.post("/api/cameras", json={"key": "c", "kind": "fixed"}, headers={"Origin": "http://testserver"})
    assert same.status_code == 201


def test_login_expires_and_logout_ends_it(harness: Harness) -> None:
    client = harness.login("ana")
    harness.clock.advance(hours=11)
    assert client.get("/api/auth/me").status_code == 200
    harness.clock.advance(hours=2)
    assert client.get("/api/auth/me").status_code == 401
    client = harness.login_with_password("ben")
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_password_change_and_disabling_end_sessions(harness: Harness) -> None:
    admin = harness.login("root", "admin")
    ana = harness.login("ana")
    changed = admin.patch("/api/users/ana", json={"password": "a new password"})
    assert changed.status_code == 200
    assert ana.get("/api/auth/me").status_code == 401
    ben = harness.login("ben")
    assert admin.patch("/api/users/ben", json={"active": False}).status_code == 200
    assert ben.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize("cookie", ["garbage", "e30.c2ln", "é.ü", "", "a.b.c"])
def test_forged_cookies_are_refused(harness: Harness, cookie: str) -> None:
    header = b"xiuhua_session=" + cookie.encode("utf-8")
    assert harness.client().get("/api/cameras", headers={"Cookie": header}).status_code == 401


def test_a_cookie_signed_with_another_secret_is_refused(harness: Harness, make_harness: Callable[..., Harness]) -> None:
    client = harness.login("ana")
    other = make_harness(session_secret="another-secret-" + "y" * 32)
    stolen = other.client(cookies={"xiuhua_session": client.cookies["xiuhua_session"]})
    assert stolen.get("/api/auth/me").status_code == 401


def test_bearer_tokens_need_no_csrf_and_can_be_revoked(harness: Harness) -> None:
    machine = harness.token("scanner", "admin")
    me = machine.get("/api/auth/me").json()
    assert me["via"] == "token" and me["username"] == "scanner" and me["csrf_token"] is None
    assert machine.post("/api/cameras", json={"key": "cam-9", "kind": "ptz"}).status_code == 201
    admin = harness.login("root", "admin")
    tokens = admin.get("/api/tokens").json()
    assert tokens["count"] == 1 and "token" not in tokens["items"][0]
    assert admin.delete(f"/api/tokens/{tokens['items'][0]['id']}").status_code == 200
    assert machine.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize("header", ["Basic YTpi", "Bearer", "Token abc"])
def test_malformed_authorization_headers(harness: Harness, header: str) -> None:
    response = harness.client(headers={"Authorization": header}).get("/api/cameras")
    assert response.status_code == 401


def test_tokens_made_through_the_api_work_once_shown(harness: Harness) -> None:
    admin = harness.login("root", "admin")
    harness.add_user("ingester")
    created = admin.post("/api/tokens", json={"name": "city ai", "username": "ingester"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("xh_")
    assert harness.client(headers={"Authorization": f"Bearer {token}"}).get("/api/auth/me").json()["username"] == (
        "ingester"
    )
    assert admin.post("/api/tokens", json={"name": "x", "username": "ghost"}).status_code == 404


def test_roles(harness: Harness) -> None:
    reviewer = harness.login("ana")
    admin = harness.login("root", "admin")
    for method, path, body in [
        ("POST", "/api/cameras", {"key": "c", "kind": "fixed"}),
        ("PATCH", "/api/cameras/1", {"name": "x"}),
        ("DELETE", "/api/cameras/1", None),
        ("GET", "/api/users", None),
        ("POST", "/api/users", {"username": "x", "password": "long enough", "role": "admin"}),
        ("GET", "/api/tokens", None),
    ]:
        response = reviewer.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["detail"] == "this needs the admin role"
    assert admin.get("/api/users").json()["count"] == 2


def test_users_api(harness: Harness) -> None:
    admin = harness.login("root", "admin")
    created = admin.post("/api/users", json={"username": "cy", "password": "long enough", "role": "reviewer"})
    assert created.status_code == 201 and "password" not in created.text and "hash" not in created.text
    assert admin.post("/api/users", json={"username": "cy", "password": "long enough"}).status_code == 409
    bad = admin.post("/api/users", json={"username": "bad name!", "password": "long enough"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "username"
    short = admin.post("/api/users", json={"username": "dee", "password": "short"})
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "password"
    login = harness.client().post("/api/auth/login", json={"username": "cy", "password": "long enough"})
    assert login.status_code == 200


def test_docs_need_a_login_and_then_describe_the_api(harness: Harness) -> None:
    assert harness.client().get("/docs").status_code == 401
    client = harness.login("ana")
    assert "swagger" in client.get("/docs").text.lower()
    schema = client.get("/openapi.json").json()
    assert "/api/cameras" in schema["paths"] and "/docs" not in schema["paths"]


def test_failed_logins_lock_the_name_for_a_while(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(login_max_failures=3, login_window_s=600)
    harness.add_user("ana")
    client = harness.client()

    def attempt(password: str, username: str = "ana") -> int:
        return client.post("/api/auth/login", json={"username": username, "password": password}).status_code

    assert [attempt("guess 1"), attempt("guess 2"), attempt("guess 3")] == [401, 401, 401]
    locked = client.post("/api/auth/login", json={"username": "ANA", "password": PASSWORD})
    assert locked.status_code == 429 and locked.headers["retry-after"] == "600"
    assert "too many failed logins" in locked.json()["detail"]
    harness.clock.advance(seconds=601)
    assert attempt(PASSWORD) == 200
    assert attempt("guess 4") == 401  # a success cleared the name's count


def test_pages_redirect_to_the_login_page_when_set(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(login_url="/login")
    browser = harness.client(follow_redirects=False)
    page = browser.get("/docs", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/docs"
    assert browser.get("/api/cameras").status_code == 401  # scripts still get JSON


def test_security_headers(harness: Harness) -> None:
    response = harness.client().get("/healthz")
    assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
