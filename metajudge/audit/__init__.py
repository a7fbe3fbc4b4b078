"""The audit: per dataset, the critics' figures beside the human ceiling, the triage queue of
spurious-correct cases, reviewers' verdicts and checklist send-backs, and the exports.

views (HTML pages), api (REST), selectors (dashboard figures), triage (the queue and a case),
verdicts (verdict-mode and reviewer-verdict figures), matcher_agreement (offline vs LLM
matcher), exports (CSV/JSONL), services (verdict_record, checklist_send_back)."""
