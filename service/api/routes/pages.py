"""Server-rendered review pages: the slot the pages work fills in.

``router`` is included by :func:`service.api.factory.create_app` after the JSON API, so page paths (``/``,
``/login``, ``/queue`` …) live here. Templates go in :data:`TEMPLATES_DIR` (Jinja2). To add the pages:

- routes that need a person use :data:`service.api.deps.UserDep` (cookie or token) like the API;
- a form that changes state posts a ``csrf_token`` field (the value of
  ``context.signer.csrf_token(principal.session)``), which :func:`service.api.deps.current_principal` checks;
- the login form calls :func:`service.api.crud.users.authenticate` and
  :func:`service.api.cookies.start_session`, and its paths go into :data:`PUBLIC_PATHS`;
- set ``ApiSettings.login_url`` so a browser without a login gets redirected instead of a 401.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
# Page paths reachable without logging in (the login form itself).
PUBLIC_PATHS: frozenset[str] = frozenset()

router = APIRouter(tags=["pages"], include_in_schema=False)
