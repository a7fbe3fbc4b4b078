"""One-to-one assignment of human atoms to model atoms: scipy's linear_sum_assignment.

scipy.optimize costs about half a second of imports. Every process that starts a judge run
(the CLI, each worker) imports the matchers, and only an offline run ever assigns, so the solver
is loaded on the first assignment, not when this module is imported."""

from __future__ import annotations

import functools
import importlib

import numpy as np


@functools.cache
def _solver():
    return importlib.import_module("scipy.optimize").linear_sum_assignment


def best_pairs(matrix: np.ndarray) -> list[tuple[int, int]]:
    """The (row, column) pairs of the assignment with the largest total score."""
    rows, cols = _solver()(matrix, maximize=True)
    return list(zip(rows.tolist(), cols.tolist(), strict=True))
