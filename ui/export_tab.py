"""The Export & share tab: the trajectory as CSV, the reproduce code (from scratch and with gdcore), the
share link, and the HTML report."""

from __future__ import annotations

import functools
from urllib.parse import urlencode

import streamlit as st

import gdcore
from gdcore.dashboard import experiment, report
from gdcore.dashboard.compare import results_table
from gdcore.dashboard.settings import Settings
from ui.guided import share_query
from ui.results import DRAWN_CHARTS, parameter_names


def export_section(prepared, runs, settings: Settings) -> None:
    main_name, main_run = next(iter(runs.items()))
    st.download_button(
        f"⬇️ Download the trajectory of {main_name} (CSV)",
        # A callable: the CSV (100,001 rows at the largest settings) is written only when clicked.
        functools.partial(gdcore.trajectory_csv, main_run, prepared.train.feature_names),
        file_name="gradient_descent_trajectory.csv",
        mime="text/csv",
        key="download_csv",
        on_click="ignore",  # a download reruns nothing (a rerun could drop the file mid-download)
    )
    base = st.context.url or "http://localhost:8501/"
    query = urlencode(share_query(settings))
    link = base + ("?" + query if query else "")
    report_section(prepared, runs, settings, link)
    st.markdown("**Share this experiment**")
    st.code(link, language=None)
    if settings.source == "csv":
        st.caption("An uploaded file is not part of the link: whoever opens it uploads the file again.")
    reproduce_section(settings, main_name)


def build_report(prepared, runs, settings: Settings, drawn, link: str) -> str:
    """The HTML report of what the page shows (called when the button is clicked)."""
    main_name, main_run = next(iter(runs.items()))
    names = parameter_names(prepared.train)
    table = results_table(runs, prepared.fit, experiment.test_losses(prepared, runs), names)
    return report.report_html(
        title="Gradient Descent Lab: experiment report",
        summary=f"{prepared.source.name}. {main_name}: {main_run.summary_line()}",
        settings=report.settings_rows(settings),
        headline=report.headline_rows(main_name, main_run, prepared.fit, prepared.quadratic.l2),
        runs=report.run_rows(table),
        charts=[(report.chart_heading(chart), chart) for chart in drawn],
        share_link=link,
        modules=report.vega_modules(),
    )


def report_section(prepared, runs, settings: Settings, link: str) -> None:
    """One HTML file for slides and notes: settings, numbers, the charts (SVG/PNG from each chart's menu)."""
    st.markdown("**Report and pictures**")
    # The list itself, not a copy: a flip of a log axis (results.time_charts, a fragment) replaces its
    # first charts in place, and the report is written when the button is clicked.
    drawn = st.session_state.get(DRAWN_CHARTS, [])
    st.download_button(
        "⬇️ Download the report (one HTML file, readable offline)",
        # A callable: the file (about 1.5 MB with its chart scripts) is written only when clicked.
        functools.partial(build_report, prepared, runs, settings, drawn, link),
        file_name="gradient_descent_report.html",
        mime="text/html",
        key="download_report",
        on_click="ignore",  # a download reruns nothing (a rerun could drop the file mid-download)
    )
    st.caption(
        "The report holds the settings, the headline numbers, every run and the charts above, drawn in the "
        "file itself (no internet needed). Each chart's “…” menu in the report saves it as **SVG** or "
        "**PNG**; on this page, a chart's toolbar (top right, on hover) has **Download as PNG**."
    )


def reproduce_section(settings: Settings, main_name: str) -> None:
    """The run as code a learner can keep: from scratch (numpy and scikit-learn only) and with gdcore."""
    st.markdown(f"**Reproduce in Python** ({main_name}; each prints the same best-epoch line as the page)")
    spec = settings.run_plan().first
    scratch, with_gdcore = st.tabs(["From scratch (numpy + scikit-learn)", "With gdcore"])
    # the script rebuilds generated or bundled data and fits the blog's line (degree 1, no penalty)
    scratch_covers = settings.source in ("synthetic", "diabetes") and (settings.degree, settings.l2) == (
        1,
        0.0,
    )
    with scratch:
        if not scratch_covers:
            st.caption(
                "A from-scratch script rebuilds its data itself and fits the blog's line, so it covers the "
                "make_regression and diabetes data at degree 1 without a ridge penalty, not an uploaded "
                "file, curve data, a polynomial degree or λ."
            )
        else:
            data = settings.data()
            script = gdcore.scratch_script(
                data,
                spec,
                standardized=settings.standardize,
                test_fraction=settings.test_fraction,
                split_seed=settings.seed,
            )
            st.caption("The blog's loop, fixed, for these settings: no gdcore needed.")
            st.code(script, language="python")
            st.download_button(
                "⬇️ Download descent_from_scratch.py",
                script,
                file_name="descent_from_scratch.py",
                mime="text/x-python",
                key="download_scratch",
                on_click="ignore",  # a download reruns nothing (a rerun could drop the file mid-download)
            )
    with with_gdcore:
        if (
            settings.source == "synthetic"
            and settings.test_fraction == 0
            and not settings.standardize
            and (settings.degree, settings.l2) == (1, 0.0)
        ):
            st.code(gdcore.reproduce_code(settings.synthetic(), spec), language="python")
        else:
            st.caption(
                "The gdcore snippet covers the synthetic data without a test split, standardizing, a "
                "polynomial degree or λ; "
                + (
                    "the from-scratch script covers these settings."
                    if scratch_covers
                    else "neither covers curve data, a polynomial degree or λ."
                )
            )
