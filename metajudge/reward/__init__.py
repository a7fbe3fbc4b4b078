"""The reward API for RL loops (POST /api/v1/reward): score (outcome, rationale and hybrid
reward per item), llm_matcher (the LLM matcher behind the shared result cache, bounded in
time and quota), cache (the endpoint a request names, the cache's writes), selectors (the
pairs a user may score against), api (the DRF view)."""
