"""Matching: score a run's chunks (chunks), the drain loop that overlaps calls with writes
(drain), verdict mode (verdict), and which results an edit leaves stale (staleness)."""
