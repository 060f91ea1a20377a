"""The sidebar: the data source and its options, then the descent's controls."""

from __future__ import annotations

import streamlit as st

import gdcore
from gdcore.dashboard.settings import (
    ALPHA_CHOICES,
    BATCH_CHOICES,
    SAMPLE_CHOICES,
    SOURCES,
    TOL_CHOICES,
    UI_RANGES,
)
from gdcore.optimizers import OPTIMIZERS
from ui.state import keep_an_optimizer, new_seed, reset_to_blog

SOURCE_LABELS = {
    "synthetic": "Synthetic (make_regression)",
    "diabetes": "Diabetes (scikit-learn)",
    "csv": "Upload a CSV",
}


def data_controls(sb) -> bytes | None:
    """The data source and its options; returns the uploaded CSV's bytes, if any."""
    sb.header("Data")
    sb.radio("Source", SOURCES, key="source", format_func=SOURCE_LABELS.get, horizontal=False)
    csv_bytes = None
    source = st.session_state["source"]
    if source == "synthetic":
        sb.select_slider(
            "Samples (N)",
            options=SAMPLE_CHOICES,
            key="samples",
            format_func=lambda v: f"{v:,}",
            persist_state="page",
            help="Rows drawn by sklearn's make_regression (log-spaced choices).",
        )
        sb.slider("Features", *UI_RANGES["features"], key="features", persist_state="page")
        sb.slider(
            "Noise (std of y's noise)", *UI_RANGES["noise"], step=1.0, key="noise", persist_state="page"
        )
        sb.number_input(
            "True intercept",
            *UI_RANGES["intercept"],
            step=1.0,
            key="intercept",
            persist_state="page",
            help="make_regression's bias: the b that gradient descent should find (the blog used 0).",
        )
        seed_col, button_col = sb.columns([3, 2], vertical_alignment="bottom")
        seed_col.number_input("Seed", *UI_RANGES["seed"], step=1, key="seed", persist_state="page")
        button_col.button("🎲 New seed", on_click=new_seed, width="stretch")
    elif source == "diabetes":
        sb.caption("442 patients, 10 features, target: disease progression after one year (raw units).")
    else:
        upload = sb.file_uploader(
            f"CSV file (up to {gdcore.MAX_UPLOAD_MB} MB)", type=["csv", "tsv", "txt"], key="upload"
        )
        if upload is not None:
            csv_bytes = upload.getvalue()
    sb.toggle("Standardize features (z-scores)", key="standardize")
    sb.slider("Test fraction (held out, seeded)", *UI_RANGES["test_fraction"], step=0.05, key="test_fraction")
    return csv_bytes


def descent_controls(sb):
    """Optimizers, batch size, alpha, epochs, start and stopping; returns the slot beside alpha."""
    sb.header("Descent")
    if not st.session_state.get("optimizers"):  # emptied without a change event: same rule
        keep_an_optimizer()
    sb.multiselect(
        "Optimizers (compare several)",
        list(OPTIMIZERS),
        key="optimizers",
        format_func=lambda name: OPTIMIZERS[name].display_name,
        on_change=keep_an_optimizer,
    )
    sb.select_slider(
        "Batch size",
        options=BATCH_CHOICES,
        key="batch_size",
        format_func=lambda v: "full batch" if v is None else f"{v:,}",
        help="Rows per update. An epoch is one pass over the data, reshuffled every epoch.",
    )
    sb.select_slider(
        "Learning rate α (log scale)", options=ALPHA_CHOICES, key="alpha", format_func=lambda v: f"{v:g}"
    )
    alpha_slot = sb.container()
    sb.number_input("Epochs", *UI_RANGES["epochs"], step=10, key="epochs")
    w_col, b_col = sb.columns(2)
    w_col.number_input("Start w", *UI_RANGES["w0"], step=1.0, key="w0")
    b_col.number_input("Start b", *UI_RANGES["b0"], step=1.0, key="b0")
    sb.checkbox("Stop when the error stabilizes", key="stop")
    sb.select_slider(
        "…when the relative change is below",
        options=TOL_CHOICES,
        key="tol",
        format_func=lambda v: f"{v:.0e}",
        disabled=not st.session_state["stop"],
    )
    chosen = [name for name in st.session_state["optimizers"] if OPTIMIZERS[name].hyperparameters]
    if chosen:
        with sb.expander("Optimizer hyperparameters"):
            for name in chosen:
                for hp in OPTIMIZERS[name].hyperparameters:
                    st.number_input(
                        f"{OPTIMIZERS[name].display_name}: {hp.name}",
                        key=f"{name}_{hp.name}",
                        format="%.4g",
                        step=0.01 if hp.default >= 0.01 else hp.default,
                        help=f"{hp.help}. Allowed: {hp.limits.describe()}.",
                        persist_state="page",
                    )
    sb.divider()
    sb.button("↺ Reset to the blog's settings", on_click=reset_to_blog, width="stretch")
    return alpha_slot
