"""The HTTP service: ``create_app(settings, engine=..., evidence_root=...)`` builds the FastAPI app.

- :mod:`service.api.factory`: the factory; :mod:`service.api.settings`: :class:`ApiSettings`.
- :mod:`service.api.routes`: one module per area (HTTP only); :mod:`service.api.schemas`: request/response bodies;
  :mod:`service.api.crud`: data access of the areas only the API owns.
- :mod:`service.api.deps`: authentication (login cookie + CSRF, bearer tokens) and roles.
- :mod:`service.api.errors`: errors → JSON 4xx, 500 without a trace, body size limits.
"""

from service.api.factory import create_app
from service.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
