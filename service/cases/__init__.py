"""Cases on the city platform: their stages, the platform's callback, and reading them with their posting state.

result = apply_callback(session, platform_case_id="SH-2026-0001", case_id=12, stage="立案", at=when)
page = list_cases(session, stage="dispatched", posting="sent")
"""

from service.cases.callbacks import CallbackResult, apply_callback
from service.cases.listing import POSTING_STATES, CaseEventView, CasesPage, CaseView, get_case, list_cases
from service.cases.stages import FINAL, FLOW, check_transition, stage_key

__all__ = [
    "FINAL",
    "FLOW",
    "POSTING_STATES",
    "CallbackResult",
    "CaseEventView",
    "CaseView",
    "CasesPage",
    "apply_callback",
    "check_transition",
    "get_case",
    "list_cases",
    "stage_key",
]
