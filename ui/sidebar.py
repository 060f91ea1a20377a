"""The sidebar: the data source and its options, then the descent's controls."""

from __future__ import annotations

import streamlit as st

import gdcore
from gdcore.dashboard.explain import literal_markdown
from gdcore.dashboard.settings import (
    ALPHA_CHOICES,
    BATCH_CHOICES,
    SAMPLE_CHOICES,
    SOURCES,
    TOL_CHOICES,
    UI_RANGES,
    input_range,
)
from gdcore.data import CURVE_SHAPES
from gdcore.optimizers import OPTIMIZERS
from gdcore.schedules import SCHEDULES
from gdcore.validation import IntRange
from ui.landscape_tools import per_weight_start
from ui.state import (
    keep_an_optimizer,
    keep_in_range,
    keep_upload,
    kept_upload,
    new_seed,
    reset_to_blog,
    shown_number,
)

SOURCE_LABELS = {
    "synthetic": "Synthetic (make_regression)",
    "curve": "Curve (cubic or sine, plus noise)",
    "diabetes": "Diabetes (scikit-learn)",
    "csv": "Upload a CSV",
}


def number_field(container, name: str, key: str, **kwargs) -> None:
    """A number input whose label states its allowed range. The range is enforced by `keep_in_range`,
    not by the widget's min/max: the browser would refuse an out-of-range entry with a red field that
    keeps showing it while the run uses the previous value."""
    low, high = input_range(key)
    span = f"±{shown_number(high)}" if low == -high else f"{shown_number(low)} to {shown_number(high)}"
    container.number_input(
        f"{name} ({span})",
        key=key,
        on_change=keep_in_range,
        args=(key, name),
        **kwargs,
    )
    notice = st.session_state.get("range_notices", {}).pop(key, None)
    if notice:
        container.caption(f":orange[{notice}]")


def data_controls(sb) -> bytes | None:
    """The data source and its options; returns the uploaded CSV's bytes, if any."""
    # Streamlit draws a number field's "Press Enter to apply" inside the field, over long digits; this
    # moves it just below the field. Style only (a literal, nothing from the user).
    st.html(
        "<style>[data-testid='stNumberInput'] [data-testid='InputInstructions']"
        " { top: 1px; bottom: auto; line-height: 1; }</style>"
    )
    sb.header("Data")
    sb.radio("Source", SOURCES, key="source", format_func=SOURCE_LABELS.get, horizontal=False)
    csv_bytes = None
    source = st.session_state["source"]
    if source == "synthetic":
        samples_control(sb, note="Rows drawn by sklearn's make_regression (log-spaced choices).")
        sb.slider("Features", *UI_RANGES["features"], key="features", persist_state="page")
        sb.slider(
            "Noise (std of y's noise)", *UI_RANGES["noise"], step=1.0, key="noise", persist_state="page"
        )
        number_field(
            sb,
            "True intercept",
            "intercept",
            step=1.0,
            persist_state="page",
            help="make_regression's bias: the b that gradient descent should find (the blog used 0).",
        )
        seed_controls(sb)
    elif source == "curve":
        curve_controls(sb)
    elif source == "diabetes":
        sb.caption("442 patients, 10 features, target: disease progression after one year (raw units).")
    else:
        sb.file_uploader(
            f"CSV file (up to {gdcore.MAX_UPLOAD_MB} MB)",
            type=["csv", "tsv", "txt"],
            key="upload",
            on_change=keep_upload,
        )
        kept = kept_upload()
        if kept is not None:
            name, csv_bytes = kept
            if st.session_state.get("upload") is None:  # the uploader was away (another source chosen)
                sb.caption(
                    f"Using **{literal_markdown(name)}**, uploaded earlier; drop a file above to replace it."
                )
    sb.toggle("Standardize features (z-scores)", key="standardize")
    sb.slider("Test fraction (held out, seeded)", *UI_RANGES["test_fraction"], step=0.05, key="test_fraction")
    sb.slider(
        "Polynomial degree",
        *UI_RANGES["degree"],
        key="degree",
        help="Fit w₁x + w₂x² + … + w_d x^d + b to one input x (1: the blog's line). Needs one feature.",
    )
    number_field(
        sb,
        "Ridge penalty λ",
        "l2",
        step=0.01,
        format="%g",
        help="Adds λ‖w‖² to the loss (the bias is not penalized); 0 is none. scikit-learn's Ridge(alpha = N·λ).",
    )
    return csv_bytes


def samples_control(sb, note: str | None = None) -> None:
    """The number of generated rows, from SAMPLE_CHOICES (synthetic and curve data share it)."""
    sb.select_slider(
        "Samples (N)",
        options=SAMPLE_CHOICES,
        key="samples",
        format_func=lambda v: f"{v:,}",
        persist_state="page",
        help=note,
    )


def seed_controls(sb) -> None:
    """The generated data's seed, typed or drawn at random (synthetic and curve data share it)."""
    number_field(sb, "Seed", "seed", step=1, persist_state="page")
    sb.button("🎲 New random seed", on_click=new_seed, width="stretch")


def curve_controls(sb) -> None:
    """The curve data's options: its shape, rows, noise and seed (samples and seed shared with
    make_regression's)."""
    sb.radio(
        "Curve",
        CURVE_SHAPES,
        key="curve",
        format_func=CURVE_LABELS.get,
        horizontal=True,
        persist_state="page",
        help="x uniform on [-3, 3]; y the curve plus noise drawn with numpy's default_rng(seed).",
    )
    samples_control(sb)
    sb.slider(
        "Noise (std of y's noise)",
        *UI_RANGES["curve_noise"],
        step=0.1,
        key="curve_noise",
        persist_state="page",
    )
    seed_controls(sb)
    if st.session_state.get("degree", 1) == 1:
        sb.caption("A line through a curve: raise the **Polynomial degree** below to fit x, x², …")


CURVE_LABELS = {"cubic": "y = 0.5x³ − x² − 2x + 1", "sine": "y = 3 sin x"}


def schedule_controls(sb) -> None:
    """The learning-rate schedule (α per epoch, torch's names and formulas) and its parameters."""
    sb.selectbox(
        "Learning-rate schedule",
        list(SCHEDULES),
        key="schedule",
        format_func=lambda name: SCHEDULES[name].display_name,
        help="α is the first epoch's step; the schedule sets each later epoch's, stepped once per epoch "
        "(the formulas of torch.optim.lr_scheduler: StepLR, ExponentialLR, CosineAnnealingLR, LinearLR; "
        "inverse time as Keras' InverseTimeDecay).",
    )
    kind = SCHEDULES[st.session_state["schedule"]]
    for p in kind.parameters:
        whole = isinstance(p.limits, IntRange)
        number_field(
            sb,
            f"{kind.display_name}: {p.name}",
            f"{kind.name}_{p.name}",
            step=1 if whole else 0.01,
            **({} if whole else {"format": "%g"}),
            help=f"{p.help} ({kind.source}; allowed: {p.limits.describe()}).",
        )


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
        # Without the "Select N matches" entry, typing "Ada" + Enter adds the highlighted optimizer only.
        select_all=False,
        filter_mode="contains",
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
    schedule_controls(sb)
    number_field(sb, "Epochs", "epochs", step=10)
    w_col, b_col = sb.columns(2)
    number_field(w_col, "Start w", "w0", step=1.0)
    number_field(b_col, "Start b", "b0", step=1.0)
    per_weight_start(sb)
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
                    number_field(
                        st,
                        f"{OPTIMIZERS[name].display_name}: {hp.name}",
                        f"{name}_{hp.name}",
                        format="%.4g",
                        step=0.01 if hp.default >= 0.01 else hp.default,
                        help=f"{hp.help} (the optimizer allows {hp.limits.describe()}).",
                        persist_state="page",
                    )
    sb.divider()
    sb.button("↺ Reset to the blog's settings", on_click=reset_to_blog, width="stretch")
    return alpha_slot
