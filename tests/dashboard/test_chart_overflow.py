"""A run that diverges all the way to float64's edge still draws: no chart arithmetic overflows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gdcore.dashboard import charts

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest
APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def test_log_ticks_up_to_the_largest_float():
    ticks = charts.log_ticks(1e-5, 1.7e308)
    assert np.isfinite(ticks).all() and ticks[-1] <= 1.7e308 and len(ticks) >= 2


def test_loss_chart_of_a_loss_near_the_largest_float():
    table = pd.DataFrame(
        {"run": "GD", "epoch": [0, 1, 2], "loss": [10.0, 1e200, 1.7e308], "series": "loss", "best": False}
    )
    spec = charts.loss_chart(table, 1.0, log_scale=True).vega_lite()
    assert all(
        np.isfinite(spec_param["value"]).all()
        for spec_param in spec["params"]
        if "ticks" in spec_param["name"]
    )


def test_the_page_draws_a_polynomial_run_that_diverges():
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in {"degree": "5", "standardize": "true", "alpha": "0.316", "epochs": "2000"}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    assert any("Diverged" in str(e.value) for e in at.error)
