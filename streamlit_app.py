"""Gradient Descent Lab: the dashboard. Layout only; every number comes from the gdcore package."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import numpy as np
import streamlit as st

import gdcore
from gdcore import charts
from gdcore.explain import contraction_text, describe_status, math_panel_numbers
from gdcore.landscape import loss_grid, window
from gdcore.settings import (
    ALPHA_CHOICES,
    DEFAULTS,
    KEYS,
    SAMPLE_CHOICES,
    TOL_CHOICES,
    UI_RANGES,
    Settings,
    parse_query,
    to_query,
)

st.set_page_config(page_title="Gradient Descent Lab", page_icon="📉", layout="wide")


# ---------------------------------------------------------------- cached gdcore calls
# cache_resource (not cache_data): results are immutable and large; sharing them avoids a pickle copy
# on every rerun, which is what keeps a rerun at 1,000,000 samples fast.
@st.cache_resource(max_entries=6, show_spinner=False)
def load_experiment_data(n_samples: int, noise: float, seed: int):
    data = gdcore.make_data(n_samples=n_samples, noise=noise, seed=seed)
    quadratic = gdcore.Quadratic.from_data(data.X, data.y)
    fit = gdcore.least_squares(data.X, data.y)
    theory = gdcore.analyze_quadratic(quadratic)
    return data, quadratic, fit, theory


@st.cache_resource(max_entries=64, show_spinner=False)
def run_descent(n_samples, noise, seed, alpha, epochs, w0, b0, tol):
    data, quadratic, _, _ = load_experiment_data(n_samples, noise, seed)
    return gdcore.descend(
        data.X, data.y, alpha=alpha, epochs=epochs, w0=w0, b0=b0, tol=tol, quadratic=quadratic
    )


def show_chart(spec: charts.ChartSpec, **kwargs) -> None:
    st.vega_lite_chart(spec.vega_lite(), **kwargs)


# ---------------------------------------------------------------- state and URL
def initialise_state() -> None:
    """Once per session: settings from the URL (junk values fall back to defaults with a notice)."""
    if "initialised" in st.session_state:
        return
    settings, notices = parse_query(st.query_params.to_dict())
    for key in KEYS:
        st.session_state[key] = getattr(settings, key)
    st.session_state["url_notices"] = notices
    st.session_state["initialised"] = True


def reset_to_blog() -> None:
    for key in KEYS:
        st.session_state[key] = getattr(DEFAULTS, key)


def new_seed() -> None:
    st.session_state["seed"] = secrets.randbelow(1_000_000)


def format_alpha(value: float) -> str:
    return f"{value:g}"


def sidebar():
    """The controls; returns the settings they show and the slot beside the alpha slider."""
    sb = st.sidebar
    sb.header("Data")
    sb.select_slider(
        "Samples (N)",
        options=SAMPLE_CHOICES,
        key="samples",
        format_func=lambda v: f"{v:,}",
        help="Rows drawn by sklearn's make_regression (log-spaced choices).",
    )
    sb.slider("Noise (std of y's noise)", *UI_RANGES["noise"], step=1.0, key="noise")
    seed_col, button_col = sb.columns([3, 2], vertical_alignment="bottom")
    seed_col.number_input("Seed", *UI_RANGES["seed"], step=1, key="seed")
    button_col.button("🎲 New seed", on_click=new_seed, width="stretch")

    sb.header("Descent")
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
    sb.divider()
    sb.button("↺ Reset to the blog's settings", on_click=reset_to_blog, width="stretch")
    alpha_slot.select_slider(
        "Learning rate α (log scale)", options=ALPHA_CHOICES, key="alpha", format_func=format_alpha
    )
    return Settings(**{key: st.session_state[key] for key in KEYS}), alpha_slot


# ---------------------------------------------------------------- page
def headline(run, fit, theory, settings: Settings) -> None:
    status = describe_status(run, fit, theory, settings.alpha)
    {"success": st.success, "info": st.info, "error": st.error}[status.level](status.text, icon=status.icon)
    best_w, best_b = float(run.best_weights[0]), run.best_bias
    cols = st.columns(4)
    cols[0].metric(
        "Best epoch",
        f"{run.best_epoch:,}",
        f"of {run.epochs_run:,} run",
        delta_color="off",
        delta_arrow="off",
    )
    cols[1].metric(
        "Error (MSE)",
        f"{run.best_loss:,.3f}",
        f"{run.best_loss - fit.loss:+,.3f} vs optimum",
        delta_color="inverse",
        delta_arrow="off",
    )
    cols[2].metric(
        "Weight w",
        f"{best_w:,.3f}",
        f"{best_w - fit.weights[0]:+,.3f} vs w* = {fit.weights[0]:,.3f}",
        delta_color="off",
        delta_arrow="off",
    )
    cols[3].metric(
        "Bias b",
        f"{best_b:,.3f}",
        f"{best_b - fit.bias:+,.3f} vs b* = {fit.bias:,.3f}",
        delta_color="off",
        delta_arrow="off",
    )


def charts_section(data, quadratic, fit, run) -> None:
    runs = {"GD": run}
    log_scale = st.toggle("Log-scale loss axis", value=True, key="log_loss")
    show_chart(charts.loss_chart(charts.loss_table(runs), fit.loss, log_scale), width="stretch")
    optimum = {"w": float(fit.weights[0]), "b": fit.bias}
    show_chart(charts.parameter_chart(charts.parameter_table(runs, ["w", "b"]), optimum), width="stretch")
    points, lines, best_line = charts.fit_tables(data.X[:, 0], data.y, run, fit)
    start_frame = int(lines.loc[lines["epoch"] == run.best_epoch, "frame"].iloc[0])
    show_chart(charts.fit_chart(points, lines, best_line, start_frame), width="stretch")
    st.caption("Drag the *Epoch frame* slider under the chart to watch the line move, epoch by epoch.")
    path = np.column_stack([run.weights[:, 0], run.bias, run.loss])
    optimum_point = quadratic.theta_star[[0, -1]]
    span = 4.0 * max(np.abs(path[0, :2] - optimum_point).max(), 1.0)
    bounds = window(np.vstack([optimum_point, path[:, :2]]), max_span=span)
    grid = loss_grid(quadratic, bounds, 0, 1)
    cells, path_table, marks = charts.landscape_tables(grid, {"GD": path}, optimum_point, 600)
    show_chart(
        charts.landscape_chart(
            cells, path_table, marks, "w", "b", "Loss landscape J(w, b) and the path taken"
        ),
        width="stretch",
    )


def math_section(data, fit, theory, run, settings: Settings) -> None:
    numbers = math_panel_numbers(data.X, data.y, run, settings.alpha)
    st.markdown("**The blog's four equations, with this run's numbers**")
    for line in numbers.latex_lines:
        st.latex(line)
    st.markdown("**Theory for this data** (Hessian H = (2/N) AᵀA, A = [X, 1])")
    t1, t2, t3, t4 = st.columns(4)
    t1.metric("α_max = 2/λ_max", f"{theory.alpha_max:.4g}")
    t2.metric("α_opt", f"{theory.alpha_opt:.4g}")
    t3.metric("Condition number", f"{theory.condition_number:.4g}")
    t4.metric("Eigenvalues λ", ", ".join(f"{v:.4g}" for v in theory.eigenvalues))
    st.markdown(contraction_text(run, fit, theory, settings.alpha))
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


def export_section(data, run, settings: Settings) -> None:
    st.download_button(
        "⬇️ Download the trajectory (CSV)",
        gdcore.trajectory_csv(run, data.feature_names),
        file_name="gradient_descent_trajectory.csv",
        mime="text/csv",
        key="download_csv",
    )
    st.markdown("**Reproduce in Python** (prints the same best-epoch line)")
    st.code(gdcore.reproduce_code(settings.data_kwargs(), settings.descend_kwargs()), language="python")
    st.markdown("**Share this experiment**")
    base = st.context.url or "http://localhost:8501/"
    query = urlencode(to_query(settings))
    st.code(base + ("?" + query if query else ""), language=None)


def main() -> None:
    initialise_state()
    st.title("📉 Gradient Descent Lab")
    st.caption(
        "Linear regression ŷ = w·x + b fitted by gradient descent on the mean squared error — "
        "the blog's experiment, done right. Change the settings on the left; everything updates at once."
    )
    for notice in st.session_state.get("url_notices", []):
        st.warning(f"Link ignored a value: {notice}", icon="🔗")
    settings, alpha_slot = sidebar()
    st.query_params.from_dict(to_query(settings))
    try:
        with st.spinner("Computing…"):
            data, quadratic, fit, theory = load_experiment_data(*settings.data_kwargs().values())
            run = run_descent(*settings.data_kwargs().values(), *settings.descend_kwargs().values())
    except ValueError as exc:
        st.error(f"Those settings cannot run: {exc}", icon="⚠️")
        st.stop()
    alpha_slot.caption(
        f"For this data: α_max = **{theory.alpha_max:.3f}** (above it GD diverges), "
        f"α_opt = **{theory.alpha_opt:.3f}**."
    )
    headline(run, fit, theory, settings)
    charts_section(data, quadratic, fit, run)
    math_tab, export_tab = st.tabs(["🧮 Math & theory", "⬇️ Export & share"])
    with math_tab:
        math_section(data, fit, theory, run, settings)
    with export_tab:
        export_section(data, run, settings)


main()
