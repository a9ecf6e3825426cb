"""Every table, one module per area. Import this package to register them all on ``Base.metadata``."""

from service.db.models.cameras import Camera, Reference
from service.db.models.cases import Case, CaseEvent
from service.db.models.posting import OutboxMessage
from service.db.models.review import ReviewAction
from service.db.models.scans import ScanJob, ScanSource
from service.db.models.users import ApiToken, User
from service.db.models.violations import Candidate, Evidence, Sighting

__all__ = [
    "ApiToken",
    "Camera",
    "Candidate",
    "Case",
    "CaseEvent",
    "Evidence",
    "OutboxMessage",
    "Reference",
    "ReviewAction",
    "ScanJob",
    "ScanSource",
    "Sighting",
    "User",
]
