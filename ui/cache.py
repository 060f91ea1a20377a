"""The cached gdcore calls behind the page. Defined once, at import, not on every rerun.

cache_resource (not cache_data): results are immutable and can be large; sharing them between sessions
skips a pickle copy on every rerun, which is what keeps a rerun at 1,000,000 samples fast.
"""

from __future__ import annotations

import streamlit as st

import gdcore
from gdcore.dashboard import experiment
from gdcore.dashboard.experiment import DataSource


@st.cache_resource(max_entries=4, show_spinner=False)
def load_source(source: DataSource, _csv_bytes: bytes | None = None) -> gdcore.Dataset:
    return experiment.load_source(source, _csv_bytes)


@st.cache_resource(max_entries=6, show_spinner=False)
def prepare(source: DataSource, standardized, test_fraction, split_seed, _csv_bytes=None):
    dataset = load_source(source, _csv_bytes)
    return experiment.prepare(
        dataset, standardized=standardized, test_fraction=test_fraction, split_seed=split_seed
    )


@st.cache_resource(max_entries=64, show_spinner=False)
def run(prepared_key: tuple, plan: experiment.RunPlan, _csv_bytes=None):
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


@st.cache_resource(max_entries=4, show_spinner=False)
def preview_csv(digest: str, _csv_bytes: bytes) -> gdcore.CsvPreview:
    return gdcore.inspect_csv(_csv_bytes)
