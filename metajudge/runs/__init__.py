"""Runs: one lifecycle for every kind of run (lifecycle: open items in chunks, claims, abort,
resume, the drain loop), match runs (match_runs: start, re-run, finalize, recover), starting a
run from the runs page (launch), the one module that enqueues tasks (dispatch), and the runs
page and its API (views, selectors, api)."""
