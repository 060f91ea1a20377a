"""Gradient Descent Lab: the dashboard. Widgets, cached calls and layout; every number comes from gdcore."""

from __future__ import annotations

import functools
import hashlib
import secrets
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

import gdcore
from gdcore.dashboard import charts, experiment
from gdcore.dashboard.experiment import CsvSelection, DataSource
from gdcore.dashboard.explain import contraction_text, describe_status, literal_markdown, math_panel_numbers
from gdcore.dashboard.settings import (
    ALPHA_CHOICES,
    BATCH_CHOICES,
    DEFAULTS,
    HYPER_KEYS,
    KEYS,
    SAMPLE_CHOICES,
    SOURCES,
    TOL_CHOICES,
    UI_RANGES,
    Settings,
    parse_query,
    to_query,
)
from gdcore.optimizers import OPTIMIZERS

st.set_page_config(page_title="Gradient Descent Lab", page_icon="📉", layout="wide")

SOURCE_LABELS = {
    "synthetic": "Synthetic (make_regression)",
    "diabetes": "Diabetes (scikit-learn)",
    "csv": "Upload a CSV",
}


# ---------------------------------------------------------------- cached gdcore calls
# cache_resource (not cache_data): results are immutable and can be large; sharing them skips a
# pickle copy on every rerun, which is what keeps a rerun at 1,000,000 samples fast.
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


@st.cache_resource(max_entries=16, show_spinner=False)
def sweep(prepared_key: tuple, plan: experiment.RunPlan, _csv_bytes=None):
    prepared = prepare(*prepared_key, _csv_bytes)
    results = experiment.sweep_runs(prepared, plan)
    first = next(iter(results.values()))
    return results, experiment.contraction_by_alpha(prepared, first.alphas)


@st.cache_resource(max_entries=4, show_spinner=False)
def preview_csv(digest: str, _csv_bytes: bytes) -> gdcore.CsvPreview:
    return gdcore.inspect_csv(_csv_bytes)


def show_chart(spec: charts.ChartSpec, **kwargs) -> None:
    st.vega_lite_chart(spec.vega_lite(), width="stretch", **kwargs)


# ---------------------------------------------------------------- state and URL
def apply_settings(settings: Settings) -> None:
    """Show these settings in the controls (their widget state)."""
    for key in KEYS:
        value = getattr(settings, key)
        st.session_state[key] = list(value) if key == "optimizers" else value
    changed = dict(settings.hyper)
    for key, spec in HYPER_KEYS.items():
        st.session_state[key] = changed.get(key, spec.default)
    st.session_state["optimizers_chosen"] = list(settings.optimizers)


def keep_an_optimizer() -> None:
    """on_change of the optimizer choice: remember a non-empty choice; an empty one goes back to the last
    choice. Empty arrives when the user removes every chip, and also (with no user action) when another
    widget changes while the multiselect's code is still loading in the browser."""
    if st.session_state["optimizers"]:
        st.session_state["optimizers_chosen"] = list(st.session_state["optimizers"])
    else:
        st.session_state["optimizers"] = list(
            st.session_state.get("optimizers_chosen") or DEFAULTS.optimizers
        )
        st.session_state["optimizer_kept"] = True


def initialise_state() -> None:
    """Once per session: settings from the URL (junk values fall back to defaults with a notice)."""
    if "initialised" in st.session_state:
        return
    settings, notices = parse_query(st.query_params.to_dict())
    apply_settings(settings)
    st.session_state["url_notices"] = notices
    st.session_state["initialised"] = True


def reset_to_blog() -> None:
    apply_settings(DEFAULTS)


def new_seed() -> None:
    st.session_state["seed"] = secrets.randbelow(1_000_000)


def current_settings() -> Settings:
    values = {key: st.session_state[key] for key in KEYS}
    values["optimizers"] = tuple(values["optimizers"])
    hyper = tuple(
        (key, float(st.session_state[key]))
        for key, spec in HYPER_KEYS.items()
        if st.session_state[key] != spec.default
    )
    return Settings(**values, hyper=hyper)


# ---------------------------------------------------------------- sidebar
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


# ---------------------------------------------------------------- page sections
def headline(runs, prepared, settings: Settings) -> None:
    fit, theory = prepared.fit, prepared.theory
    main_run = next(iter(runs.values()))
    status = describe_status(main_run, fit, theory, settings.alpha)
    show = {"success": st.success, "info": st.info, "error": st.error}[status.level]
    prefix = f"{next(iter(runs))}: " if len(runs) > 1 else ""
    show(prefix + status.text, icon=status.icon)
    if len(runs) > 1:
        st.info(experiment.race_summary(runs, fit.loss), icon="🏁")
    cols = st.columns(4)
    cols[0].metric(
        "Best epoch",
        f"{main_run.best_epoch:,}",
        f"of {main_run.epochs_run:,} run",
        delta_color="off",
        delta_arrow="off",
    )
    cols[1].metric(
        "Error (MSE)",
        f"{main_run.best_loss:,.3f}",
        f"{main_run.best_loss - fit.loss:+,.3f} vs optimum",
        delta_color="inverse",
        delta_arrow="off",
    )
    if main_run.n_features == 1:
        w, w_star = float(main_run.best_weights[0]), float(fit.weights[0])
        cols[2].metric(
            "Weight w",
            f"{w:,.3f}",
            f"{w - w_star:+,.3f} vs w* = {w_star:,.3f}",
            delta_color="off",
            delta_arrow="off",
        )
    else:
        off = experiment.largest_weight_error(main_run, fit)
        cols[2].metric(
            f"Weights: largest |w − w*| of {main_run.n_features}",
            f"{off:,.3g}",
            "see the parameter chart",
            delta_color="off",
            delta_arrow="off",
        )
    b = main_run.best_bias
    cols[3].metric(
        "Bias b",
        f"{b:,.3f}",
        f"{b - fit.bias:+,.3f} vs b* = {fit.bias:,.3f}",
        delta_color="off",
        delta_arrow="off",
    )


def parameter_names(dataset: gdcore.Dataset) -> list[str]:
    if dataset.n_features == 1:
        return ["w", "b"]
    return [f"w[{name}]" for name in dataset.feature_names] + ["b"]


def charts_section(prepared, runs) -> None:
    fit, train = prepared.fit, prepared.train
    log_scale = st.toggle("Log-scale loss axis", value=True, key="log_loss")
    test = experiment.test_losses(prepared, runs)
    show_chart(charts.loss_chart(charts.loss_table(runs, test), fit.loss, log_scale))
    if test:
        st.caption("Solid: training loss (what GD minimises). Dashed: loss on the held-out test rows.")
    names = parameter_names(train)
    optimum = dict(zip(names, [*fit.weights.tolist(), fit.bias], strict=True))
    show_chart(charts.parameter_chart(charts.parameter_table(runs, names), optimum))
    main_run = next(iter(runs.values()))
    if train.n_features == 1:
        points, lines, best_line = charts.fit_tables(train.X[:, 0], train.y, main_run, fit)
        start_frame = int(lines.loc[lines["epoch"] == main_run.best_epoch, "frame"].iloc[0])
        show_chart(charts.fit_chart(points, lines, best_line, start_frame))
        st.caption("Drag the *Epoch frame* slider under the chart to watch the line move, epoch by epoch.")
    else:
        predicted = train.X @ main_run.best_weights + main_run.best_bias
        show_chart(
            charts.prediction_chart(
                charts.prediction_tables(train.y, predicted),
                f"Predicted against actual at the best epoch ({next(iter(runs))}); on the diagonal = perfect",
            )
        )
    landscape(prepared, runs, names)


def landscape(prepared, runs, names) -> None:
    i, j = 0, len(names) - 1
    if len(names) > 2:
        for key in ("landscape_u", "landscape_v"):  # fewer features than before: drop a stale axis
            if st.session_state.get(key, 0) >= len(names):
                del st.session_state[key]
        u_col, v_col = st.columns(2)
        i = u_col.selectbox(
            "Landscape: horizontal axis",
            range(len(names)),
            index=0,
            key="landscape_u",
            format_func=names.__getitem__,
        )
        j = v_col.selectbox(
            "Landscape: vertical axis",
            range(len(names)),
            index=len(names) - 1,
            key="landscape_v",
            format_func=names.__getitem__,
        )
        if i == j:
            st.warning("Choose two different parameters for the landscape's axes.")
            return
    view = experiment.landscape_view(prepared, runs, i, j)
    cells, path_table, marks = charts.landscape_tables(view.grid, view.paths, view.optimum, 800)
    title = f"Loss landscape J({names[i]}, {names[j]}) and the path taken"
    show_chart(charts.landscape_chart(cells, path_table, marks, names[i], names[j], title))
    if len(names) > 2:
        st.caption("The other parameters are held at their least-squares values.")


def math_section(prepared, runs, settings: Settings) -> None:
    train, fit, theory = prepared.train, prepared.fit, prepared.theory
    main_run = next(iter(runs.values()))
    numbers = math_panel_numbers(train.X, train.y, main_run, settings.alpha)
    st.markdown(
        "**The blog's four equations, with this run's numbers** (the start and the first full-batch update)"
    )
    for line in numbers.latex_lines:
        st.latex(line)
    if len(runs) > 1 or settings.optimizers != ("gd",):
        st.markdown("**The chosen optimizers' update rules** (g is the gradient of the batch)")
        for name in settings.optimizers:
            st.latex(rf"\text{{{OPTIMIZERS[name].display_name}:}}\quad " + OPTIMIZERS[name].equation)
    st.markdown("**Theory for this data** (Hessian H = (2/N) AᵀA, A = [X, 1])")
    t1, t2, t3, t4 = st.columns(4)
    t1.metric("α_max = 2/λ_max", f"{theory.alpha_max:.4g}")
    t2.metric("α_opt", f"{theory.alpha_opt:.4g}")
    raw_kappa, kappa = experiment.condition_summary(prepared)
    t3.metric(
        "Condition number",
        f"{kappa:.4g}",
        f"{raw_kappa:.4g} before standardizing" if prepared.scaler is not None else None,
        delta_color="off",
        delta_arrow="off",
    )
    t4.metric("Eigenvalues λ", f"{theory.lambda_min:.3g} … {theory.lambda_max:.3g}")
    st.markdown(contraction_text(main_run, fit, theory, settings.alpha))
    if theory.note:
        st.info(theory.note)
    st.markdown("**The blog's shape pitfall**")
    st.markdown(numbers.pitfall_text)
    st.code(
        "X, y = make_regression(...)   # X: (100, 1), y: (100,)\n"
        "Y_pred = X * weights + bias   # (100, 1)\n"
        "Y - Y_pred                    # (100,) - (100, 1) broadcasts to (100, 100)!\n"
        "# fix: keep y and the prediction both flat: X[:, 0] * w + b  (or X @ w + b)",
        language="python",
    )


def data_section(prepared, runs) -> None:
    source = prepared.source
    st.markdown(
        f"**{literal_markdown(source.name)}** — {source.n_samples:,} rows, {source.n_features} feature(s); "
        f"target: {literal_markdown(source.target_name)}"
    )
    raw_kappa, kappa = experiment.condition_summary(prepared)
    c1, c2, c3 = st.columns(3)
    c1.metric("Training rows", f"{prepared.train.n_samples:,}")
    c2.metric("Test rows", f"{prepared.test.n_samples if prepared.test is not None else 0:,}")
    c3.metric("Condition number (raw → as fitted)", f"{raw_kappa:.3g} → {kappa:.3g}")
    if prepared.scaler is not None:
        st.caption("Standardizing rounds the loss contours: compare the landscape with the toggle off.")
        if prepared.scaler.note:
            st.info(literal_markdown(prepared.scaler.note))
    main_name, main_run = next(iter(runs.items()))
    table = experiment.weights_in_units(prepared, main_run)
    index = parameter_names(prepared.train)
    st.markdown(f"**Best-epoch parameters of {main_name}**")
    st.dataframe(pd.DataFrame(table, index=index), width="stretch")


def sweep_section(prepared_key, settings: Settings, prepared, start_loss: float, csv_bytes) -> None:
    if not st.toggle(
        "Compute the learning-rate sweep",
        key="sweep",
        value=False,
        help="60 values of α from 1e-4 to 2·α_max, each run for the chosen epochs.",
    ):
        st.caption("Turn the sweep on to see the final loss against α, with the stability cliff marked.")
        return
    with st.spinner("Sweeping α…"):
        results, rates = sweep(prepared_key, settings.run_plan(), csv_bytes)
    theory = prepared.theory
    table = charts.sweep_table(results, start_loss)
    show_chart(charts.sweep_chart(table, theory.alpha_max, theory.alpha_opt, settings.epochs))
    if settings.stop:
        show_chart(
            charts.sweep_chart(table, theory.alpha_max, theory.alpha_opt, settings.epochs, "epochs_to_tol")
        )
    else:
        st.caption("Turn on *Stop when the error stabilizes* to also see the epochs each α needs.")
    show_chart(charts.contraction_chart(rates, theory.alpha_max, theory.alpha_opt))
    st.caption(
        "Diverged runs are drawn as crosses at 10× the starting loss (their true last loss is in the tooltip). "
        "Past α_max plain GD's loss gap grows every epoch (factor > 1): the cliff. Adaptive optimizers "
        "(AdaGrad, RMSProp, Adam) normalise their steps and do not share GD's limit."
    )


def export_section(prepared, runs, settings: Settings) -> None:
    main_name, main_run = next(iter(runs.items()))
    st.download_button(
        f"⬇️ Download the trajectory of {main_name} (CSV)",
        # A callable: the CSV (100,001 rows at the largest settings) is written only when clicked.
        functools.partial(gdcore.trajectory_csv, main_run, prepared.train.feature_names),
        file_name="gradient_descent_trajectory.csv",
        mime="text/csv",
        key="download_csv",
    )
    if settings.source == "synthetic" and settings.test_fraction == 0 and not settings.standardize:
        st.markdown("**Reproduce in Python** (prints the same best-epoch line)")
        st.code(gdcore.reproduce_code(settings.synthetic(), settings.run_plan().first), language="python")
    st.markdown("**Share this experiment**")
    base = st.context.url or "http://localhost:8501/"
    query = urlencode(to_query(settings))
    st.code(base + ("?" + query if query else ""), language=None)
    if settings.source == "csv":
        st.caption("An uploaded file is not part of the link: whoever opens it uploads the file again.")


def csv_choices(csv_bytes: bytes) -> CsvSelection | None:
    """Preview the upload and let the user pick target and features; None until a feature is chosen."""
    digest = hashlib.sha256(csv_bytes).hexdigest()
    preview = preview_csv(digest, csv_bytes)
    if len(preview.numeric_columns) < 2:
        # Nothing to choose from: read_csv raises the CsvError that names each column and why it is
        # not numbers, which the page shows like every other bad file.
        gdcore.read_csv(csv_bytes)
    if st.session_state.get("csv_digest") != digest:
        # A new file: its columns differ, so the previous file's choices must not carry over.
        for key in ("csv_target", "csv_features", "csv_drop"):
            st.session_state.pop(key, None)
        st.session_state["csv_digest"] = digest
    with st.expander(
        f"📄 {preview.n_rows:,} rows, {len(preview.columns)} columns — choose the columns", expanded=True
    ):
        st.dataframe(preview.head, width="stretch")
        st.caption(f"Read as {literal_markdown(preview.format_note)}.")
        for note in preview.notes:
            st.caption(literal_markdown(note))
        numeric = list(preview.numeric_columns)
        t_col, f_col = st.columns([1, 2])
        target = t_col.selectbox(
            "Target column (y)", numeric, index=numeric.index(preview.default_target), key="csv_target"
        )
        choices = [c for c in numeric if c != target]
        features = f_col.multiselect(
            "Feature columns (X)",
            choices,
            default=[c for c in preview.default_features if c in choices],
            key="csv_features",
        )
        drop = False
        if preview.nonfinite_rows:
            drop = st.checkbox(
                f"Drop the {preview.nonfinite_rows:,} row(s) with empty, NaN or inf cells", key="csv_drop"
            )
    if not features:
        st.info("Choose at least one feature column to fit.")
        return None
    return CsvSelection(digest, target, tuple(features), drop)


def main() -> None:
    initialise_state()
    st.title("📉 Gradient Descent Lab")
    st.caption(
        "Linear regression ŷ = w·x + b fitted by gradient descent on the mean squared error — "
        "the blog's experiment, done right. Change the settings on the left; everything updates at once."
    )
    for notice in st.session_state.get("url_notices", []):
        st.warning(f"Link ignored a value: {literal_markdown(notice)}", icon="🔗")
    csv_bytes = data_controls(st.sidebar)
    alpha_slot = descent_controls(st.sidebar)
    if st.session_state.pop("optimizer_kept", False):
        st.toast("At least one optimizer is needed, so the last choice is kept.", icon="ℹ️")
    settings = current_settings()
    st.query_params.from_dict(to_query(settings))
    if not settings.optimizers:
        st.warning("Choose at least one optimizer in the sidebar.")
        st.stop()
    try:
        if settings.source == "csv":
            if csv_bytes is None:
                st.info(
                    "Upload a CSV file in the sidebar: one header row, numeric columns. "
                    f"Up to {gdcore.MAX_UPLOAD_MB} MB.",
                    icon="📄",
                )
                st.stop()
            source = csv_choices(csv_bytes)
            if source is None:
                st.stop()
        elif settings.source == "synthetic":
            source = settings.synthetic()
        else:
            source = settings.source
        prepared_key = (source, settings.standardize, settings.test_fraction, settings.seed)
        with st.spinner("Running gradient descent…"):
            prepared = prepare(*prepared_key, csv_bytes)
            runs = run(prepared_key, settings.run_plan(), csv_bytes)
    except ValueError as exc:
        # A bad CSV knows how to say its fix in the dashboard's words (the drop box, the column picker).
        message = exc.for_dashboard() if isinstance(exc, gdcore.CsvError) else str(exc)
        st.error(f"That cannot run: {literal_markdown(message)}", icon="⚠️")
        st.stop()
    theory = prepared.theory
    alpha_slot.caption(
        f"For this data: α_max = **{theory.alpha_max:.4g}** (above it GD diverges), "
        f"α_opt = **{theory.alpha_opt:.4g}**."
    )
    if theory.alpha_opt < ALPHA_CHOICES[0] and prepared.scaler is None:
        st.warning(
            f"This data needs α ≤ {theory.alpha_max:.3g}, below the slider's smallest value "
            f"({ALPHA_CHOICES[0]:g}): its features have very different scales (condition number "
            f"{theory.condition_number:.3g}). Turn on **Standardize features** to fix that.",
            icon="📏",
        )
    headline(runs, prepared, settings)
    charts_section(prepared, runs)
    math_tab, sweep_tab, data_tab, export_tab = st.tabs(
        ["🧮 Math & theory", "📐 Learning-rate sweep", "🗂️ Data & weights", "⬇️ Export & share"]
    )
    with math_tab:
        math_section(prepared, runs, settings)
    with sweep_tab:
        sweep_section(prepared_key, settings, prepared, float(next(iter(runs.values())).loss[0]), csv_bytes)
    with data_tab:
        data_section(prepared, runs)
    with export_tab:
        export_section(prepared, runs, settings)


main()
