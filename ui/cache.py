"""The cached gdcore calls behind the page. Defined once, at import, not on every rerun.

cache_resource (not cache_data): results are immutable and can be large; sharing them between sessions
skips a pickle copy on every rerun, which is what keeps a rerun at 1,000,000 samples fast.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import streamlit as st

import gdcore
from gdcore.dashboard import curves, degrees, experiment
from gdcore.dashboard.experiment import DataSource


class FinishedRuns:
    """Runs made outside the cache (long runs drawn with progress, ui/budget.py), kept for `run` to hand
    out, by (prepared_key, plan); thread-safe, the oldest dropped beyond `max_entries`."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._runs: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> dict | None:
        with self._lock:
            runs = self._runs.get(key)
            if runs is not None:
                self._runs.move_to_end(key)
            return runs

    def put(self, key: tuple, runs: dict) -> None:
        with self._lock:
            self._runs[key] = runs
            self._runs.move_to_end(key)
            while len(self._runs) > self.max_entries:
                self._runs.popitem(last=False)


FINISHED = FinishedRuns(max_entries=4)


@st.cache_resource(max_entries=4, show_spinner=False)
def load_source(source: DataSource, _csv_bytes: bytes | None = None) -> gdcore.Dataset:
    return experiment.load_source(source, _csv_bytes)


@st.cache_resource(max_entries=6, show_spinner=False)
def prepare(source: DataSource, standardized, test_fraction, split_seed, _csv_bytes=None):
    dataset = load_source(source, _csv_bytes)
    degree, l2 = experiment.problem_shape(source)
    return experiment.prepare(
        dataset,
        standardized=standardized,
        test_fraction=test_fraction,
        split_seed=split_seed,
        degree=degree,
        l2=l2,
    )


@st.cache_resource(max_entries=64, show_spinner=False)
def run(prepared_key: tuple, plan: experiment.RunPlan, _csv_bytes=None):
    finished = FINISHED.get((prepared_key, plan))  # a long run already made, with progress, by ui.budget
    if finished is not None:
        return finished
    return experiment.run_optimizers(prepare(*prepared_key, _csv_bytes), plan)


@st.cache_resource(max_entries=64, show_spinner=False)
def outlooks(prepared_key: tuple, plan: experiment.RunPlan, _csv_bytes=None):
    return experiment.outlooks(prepare(*prepared_key, _csv_bytes), plan)


@st.cache_resource(max_entries=16, show_spinner=False)
def sweep(prepared_key: tuple, plan: experiment.RunPlan, _csv_bytes=None):
    prepared = prepare(*prepared_key, _csv_bytes)
    results = experiment.sweep_runs(prepared, plan)
    first = next(iter(results.values()))
    return results, experiment.contraction_by_optimizer(prepared, plan, first.alphas)


@st.cache_resource(max_entries=8, show_spinner=False)
def momentum_map(prepared_key: tuple, _csv_bytes=None):
    return experiment.momentum_rate_map(prepare(*prepared_key, _csv_bytes))


@st.cache_resource(max_entries=8, show_spinner=False)
def condition_by_degree(prepared_key: tuple, _csv_bytes=None):
    return curves.condition_table(prepare(*prepared_key, _csv_bytes))


@st.cache_resource(max_entries=8, show_spinner=False)
def degree_sweep(sweep_key: tuple, spec, _csv_bytes=None):
    """`degrees.degree_sweep` keyed by (data without its degree, standardized, test fraction, split
    seed, l2): the sweep does not depend on the degree the page shows."""
    source, standardized, test_fraction, split_seed, l2 = sweep_key
    return degrees.degree_sweep(
        load_source(source, _csv_bytes),
        spec,
        standardized=standardized,
        test_fraction=test_fraction,
        split_seed=split_seed,
        l2=l2,
    )


@st.cache_resource(max_entries=4, show_spinner=False)
def preview_csv(digest: str, _csv_bytes: bytes) -> gdcore.CsvPreview:
    return gdcore.inspect_csv(_csv_bytes)
