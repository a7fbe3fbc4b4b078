"""Runs: one lifecycle for every kind of run (lifecycle: open items in chunks, claims, abort,
resume, the drain loop), match runs (match_runs: start, re-run, finalize, recover), and the one
module that enqueues tasks (dispatch). Starting runs from the page is in launch/."""
