"""metajudge's models, one module per question: what is judged (catalog), match runs and their
results (runs), generation runs (generation), reviewers' verdicts (audit)."""

from metajudge.models.audit import AuditVerdict
from metajudge.models.catalog import Critic, JudgeEndpoint, Judgment, PromptTemplate
from metajudge.models.generation import GenrmItem, GenrmRun
from metajudge.models.runs import CachedAnswer, MatchResult, MatchRun, RunProgress

__all__ = [
    "AuditVerdict",
    "CachedAnswer",
    "Critic",
    "GenrmItem",
    "GenrmRun",
    "JudgeEndpoint",
    "Judgment",
    "MatchResult",
    "MatchRun",
    "PromptTemplate",
    "RunProgress",
]
