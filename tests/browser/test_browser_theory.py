"""The theory the page says, in a real browser: each optimizer's own step limit and no advice that diverges.

The issue's case: on data with condition number ~4 (make_regression, 10 rows, seed 0) the slider's
α = 0.398 is plain GD's fastest step but past Nesterov's (β = 0.9) limit. The page must say Nesterov's
own limit — computed here from numpy's eigenvalues, never read from gdcore — and the one step it offers
must be settable with a click and must not diverge (checked by running it here, in a plain loop).
Screenshots at 390, 1024 and 1440 px wide go to artifacts/screenshots/.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import gdcore
from gdcore.dashboard.settings import ALPHA_CHOICES

KAPPA4 = {"samples": 10, "seed": 0}
GD_STEP = 0.398
WIDTHS = (1440, 1024, 390)


def nesterov_limit_and_data(beta: float = 0.9):
    data = gdcore.make_data(n_samples=10, seed=0)
    A = np.column_stack([data.X, np.ones(len(data.y))])
    lam = np.linalg.eigvalsh(2.0 / len(data.y) * A.T @ A)
    return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lam.max()), 2.0 / (lam.min() + lam.max()), A, data.y


def nesterov_loop(A, y, alpha: float, epochs: int, beta: float = 0.9) -> np.ndarray:
    """Losses of Nesterov's v = βv + g, θ −= α(g + βv) from w = 1, b = 0."""
    theta = np.array([1.0, 0.0])
    velocity = np.zeros(2)
    losses = [np.mean((y - A @ theta) ** 2)]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            g = -2.0 / len(y) * A.T @ (y - A @ theta)
            velocity = beta * velocity + g
            theta = theta - alpha * (g + beta * velocity)
            losses.append(np.mean((y - A @ theta) ** 2))
    return np.array(losses)


def sidebar_text(app) -> str:
    return app.page.get_by_test_id("stSidebar").inner_text()


def offered_steps(app) -> list[float]:
    """Every α the page recommends: "Set α = …" buttons and any "Try α… = …" sentence."""
    text = app.page.get_by_test_id("stMain").inner_text()
    return [float(v) for v in re.findall(r"(?:Set|Try) α(?:_opt)? = ([0-9.e+-]+)", text)]


def test_nesterov_at_gds_fastest_step_shows_its_own_limit_and_a_step_that_converges(app_page, screenshots):
    limit, gd_opt, A, y = nesterov_limit_and_data()
    assert limit < GD_STEP <= gd_opt  # the trap: GD's fastest step is past Nesterov's edge
    loss = nesterov_loop(A, y, GD_STEP, 100)
    assert not np.isfinite(loss[-1]) or loss[-1] > 1e6 * loss[0]  # and Nesterov does diverge there

    app = app_page.open_until_charts({**KAPPA4, "alpha": GD_STEP, "optimizers": "nesterov"})
    diverged = [text for text in app.alerts() if "Diverged" in text]
    assert len(diverged) == 1, app.alerts()
    assert "Nesterov momentum's step limit" in diverged[0]
    assert f"α_max = {limit:.4g}" in diverged[0]
    assert f"{limit:.4g}" in sidebar_text(app)  # beside the α slider, Nesterov's own limit
    assert f"{gd_opt:.4g}" not in " ".join(app.alerts())  # GD's step is not recommended to Nesterov
    steps = offered_steps(app)
    assert len(steps) == 1, steps
    step = steps[0]
    assert step in ALPHA_CHOICES and step < limit
    converging = nesterov_loop(A, y, step, 500)
    assert np.all(np.isfinite(converging)) and converging[-1] < 1e-3 * converging[0] + converging.min() * 1.01
    for width in WIDTHS:
        app.page.set_viewport_size({"width": width, "height": 1000})
        app.page.wait_for_timeout(800)
        app.screenshot(screenshots / f"theory-nesterov-diverged-{width}.png", full_dashboard=True)
    app.page.set_viewport_size({"width": 1440, "height": 1000})
    app.page.wait_for_timeout(500)

    app.rerun_after(lambda: app.page.get_by_role("button", name=f"Set α = {step:g}").click())
    assert app.slider_value("alpha") == f"{step:g}"
    assert float(app.query()["alpha"]) == pytest.approx(step)
    assert not [text for text in app.alerts() if "Diverged" in text], app.alerts()
    assert any("Converged" in text or "Still descending" in text for text in app.alerts()), app.alerts()
    assert app.exceptions() == []
    app.assert_no_console_errors()


@pytest.mark.parametrize("tab", ["Math & theory", "Learning-rate sweep"])
def test_theory_and_sweep_tabs_read_at_three_widths(app_page, screenshots, tab):
    """The per-optimizer limits table, the momentum map, the sweep's cliffs and the rate view drawn."""
    app = app_page.open_until_charts({"optimizers": "gd,momentum,nesterov,adam", "alpha": 0.1})
    app.open_tab(tab)
    if tab == "Learning-rate sweep":
        app.switch("sweep")
        expected_charts = 6  # the four above the tabs, the sweep and the rate view
    else:
        app.switch("momentum_map")
        expected_charts = 5  # the four above the tabs and the momentum map
    app.charts().nth(expected_charts - 1).wait_for()
    for width in WIDTHS:
        app.page.set_viewport_size({"width": width, "height": 1000})
        app.page.wait_for_timeout(800)
        name = "theory" if tab.startswith("Math") else "sweep"
        app.screenshot(screenshots / f"{name}-tab-{width}.png", full_dashboard=True)
        charts = app.charts()
        for i in range(4, charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] <= width, (i, box)
    main = app.page.get_by_test_id("stMain").inner_text()
    if tab.startswith("Math"):
        assert "no fixed limit" in main and "Polyak" in main
    else:
        assert "no fixed limit" in main and "Loss-gap factor" in main
    assert app.exceptions() == []
    app.assert_no_console_errors()
