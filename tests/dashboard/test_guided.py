"""Guided experiments (issue 12 §2) and the blog's code on the charts (§3).

Every experiment is opened and every one of its findings must hold; then what each text says is checked
against an independent computation: plain loops written here (full-batch gradient -(2/N) A^T (y - A theta),
the registry's update rules, mini-batches in gdcore's shuffled order), numpy's eigenvalues and lstsq. The
numbers are read back from the text, so a sentence that says the wrong thing fails. Then the page:
`?experiment=<slug>` loads the first variant, the menu and the variant buttons set every control, the
share link carries the slug, and the blog's code is drawn on the loss and parameter charts.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import design_matrix, open_tab
from sklearn.datasets import load_diabetes, make_regression
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard import blogcode, guided
from gdcore.dashboard.explain import plain_text
from gdcore.dashboard.settings import ALPHA_CHOICES, DEFAULTS, parse_query, to_query
from gdcore.reference import BLOG_CODE_NAME

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
SEED_BLOG_BUG_LINE = "Best epoch: 1, Error: 213166.221, Weights: -0.41, Bias: -0.233"  # the figure


@pytest.fixture(scope="module")
def lab():
    return guided.direct_lab()


@pytest.fixture(scope="module")
def guides(lab) -> dict[str, guided.Guide]:
    return {slug: guided.open_guide(slug, lab) for slug in guided.EXPERIMENTS}


# ------------------------------------------------------------------ independent references
def blog_xy():
    X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)
    return X, y


def diabetes_xy(standardized: bool):
    X, y = load_diabetes(return_X_y=True, scaled=False)
    if standardized:
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, y


def optimum(X, y) -> tuple[np.ndarray, float]:
    A = design_matrix(X)
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return theta, float(np.mean((y - A @ theta) ** 2))


def condition_number(X) -> float:
    A = design_matrix(X)
    lam = np.linalg.eigvalsh(2.0 / len(A) * A.T @ A)
    return float(lam[-1] / lam[0])


def loop(X, y, name="gd", *, alpha, epochs, w0=1.0, b0=0.0, batch=None, seed=0, **hyper) -> np.ndarray:
    """J(theta_t), t = 0..epochs, of a plain loop: the registry's update on the batch gradient
    -(2/n) A_B^T (y_B - A_B theta); batches from np.random.default_rng(seed).permutation each epoch.
    Stops (shorter array) at the first non-finite value."""
    entry = gdcore.OPTIMIZERS[name]
    A = design_matrix(X)
    theta = np.append(np.full(A.shape[1] - 1, w0), b0)
    state = entry.init(theta)
    rng = np.random.default_rng(seed)
    n = len(y)
    losses = [np.mean((y - A @ theta) ** 2)]
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            order = np.arange(n) if batch is None else rng.permutation(n)
            size = n if batch is None else batch
            for start in range(0, n, size):
                rows = order[start : start + size]
                grad = -2.0 / len(rows) * A[rows].T @ (y[rows] - A[rows] @ theta)
                theta, state = entry.update(grad, state, theta, alpha, **hyper)
            loss = np.mean((y - A @ theta) ** 2)
            if not (np.isfinite(loss) and np.isfinite(theta).all()):
                break
            losses.append(loss)
    return np.array(losses)


def first_reaching(loss: np.ndarray, optimum_loss: float) -> int | None:
    hits = np.flatnonzero(loss[0] - loss >= 0.999 * (loss[0] - optimum_loss))
    return int(hits[0]) if hits.size else None


def diverged(loss: np.ndarray, epochs: int) -> bool:
    return loss.size < epochs + 1 or loss[-1] > loss[0]


def number(pattern: str, text: str) -> float:
    """The number a regex group captures in a finding (thousands separators dropped)."""
    found = re.search(pattern, text)
    assert found, (pattern, text)
    return float(found.group(1).replace(",", ""))


def texts(guide: guided.Guide) -> list[str]:
    return [f.text for f in guide.findings]


# ------------------------------------------------------------------ the experiments
def test_at_least_eight_experiments_with_their_words(guides):
    assert len(guides) >= 8
    for slug, guide in guides.items():
        entry = guide.experiment
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", slug) and len(slug) <= 12
        assert entry.title and entry.question.endswith("?") and entry.look_at
        assert entry.why.endswith(".") and entry.why.count(". ") == 0, "one sentence of why"
        assert guide.findings and guide.variants


@pytest.mark.parametrize("slug", list(guided.EXPERIMENTS))
def test_every_finding_holds(slug, guides):
    failed = [f.text for f in guides[slug].findings if not f.holds]
    assert not failed


@pytest.mark.parametrize("slug", list(guided.EXPERIMENTS))
def test_variants_are_settings_a_link_restores(slug, guides):
    for variant in guides[slug].variants:
        restored, notices = parse_query(to_query(variant.settings))
        assert notices == [] and restored == variant.settings
        assert variant.settings.alpha in ALPHA_CHOICES  # a value the slider really offers


def test_blog_claims(guides):
    t = texts(guides["blog"])
    X, y = blog_xy()
    _, j_star = optimum(X, y)
    loss = loop(X, y, alpha=0.01, epochs=100)
    closed = (loss[0] - loss.min()) / (loss[0] - j_star)
    assert number(r"closed \*\*([\d.]+)%", t[0]) == pytest.approx(100 * closed, abs=0.05)
    forecast = int(number(r"at epoch \*\*([\d,]+)\*\*", t[1]))
    assert first_reaching(loop(X, y, alpha=0.01, epochs=forecast + 5), j_star) == forecast
    assert "falls in every epoch" in t[2] and np.all(np.diff(loss) < 0)


def test_blog_bug_claims(guides):
    t = texts(guides["blog-bug"])
    assert f"prints `{SEED_BLOG_BUG_LINE}`" in t[0]
    X, y = blog_xy()
    broadcast = y - (X * 1.0 + 0.0)  # the blog's (100,) - (100, 1)
    assert broadcast.shape == (100, 100)
    blog_error = float(np.sum(broadcast**2) / 100)
    true_mse = float(np.mean((y - X[:, 0]) ** 2))
    assert number(r"first “error” is ([\d,.]+)", t[1]) == pytest.approx(blog_error, abs=0.05)
    assert number(r"\*\*([\d,]+)×\*\*", t[1]) == pytest.approx(blog_error / true_mse, abs=0.5)
    assert "**diverges**" in t[2]


def test_cliff_claims(guides):
    guide = guides["cliff"]
    t = texts(guide)
    above, below = (v.settings.alpha for v in guide.variants)
    X, y = blog_xy()
    A = design_matrix(X)
    alpha_max = 2.0 / np.linalg.eigvalsh(2.0 / 100 * A.T @ A)[-1]
    assert number(r"α_max = 2/λ_max = ([\d.]+)", t[0]) == pytest.approx(alpha_max, abs=5e-5)
    assert below < alpha_max < above
    assert "**diverges**" in t[0] and diverged(loop(X, y, alpha=above, epochs=100), 100)
    _, j_star = optimum(X, y)
    below_loss = loop(X, y, alpha=below, epochs=100)
    assert not diverged(below_loss, 100)
    assert first_reaching(below_loss, j_star) == int(number(r"at epoch \*\*(\d+)\*\*", t[1]))
    low = number(r"every α from ([\d.]+) to [\d.]+ converges", t[2])
    high = number(r"every α from [\d.]+ to ([\d.]+) diverges", t[2])
    assert number(r"every α from [\d.]+ to ([\d.]+) converges", t[2]) == below
    assert number(r"every α from ([\d.]+) to [\d.]+ diverges", t[2]) == above
    for alpha in [a for a in ALPHA_CHOICES if low <= a <= below]:
        assert not diverged(loop(X, y, alpha=alpha, epochs=100), 100), alpha
    for alpha in [a for a in ALPHA_CHOICES if above <= a <= high]:
        assert diverged(loop(X, y, alpha=alpha, epochs=100), 100), alpha


def test_best_step_claims(guides):
    guide = guides["best-step"]
    t = texts(guide)
    X, y = blog_xy()
    _, j_star = optimum(X, y)
    alpha = guide.variants[0].settings.alpha
    assert first_reaching(loop(X, y, alpha=alpha, epochs=20), j_star) == int(
        number(r"at epoch \*\*(\d+)\*\*", t[0])
    )
    slow = int(number(r"gets there at epoch ([\d,]+)", t[1]))
    assert first_reaching(loop(X, y, alpha=0.01, epochs=slow + 5), j_star) == slow
    kappa = condition_number(X)
    assert number(r"κ = ([\d.]+)", t[2]) == pytest.approx(kappa, abs=5e-4)


def test_scaling_claims(guides):
    guide = guides["scaling"]
    t = texts(guide)
    X, y = diabetes_xy(False)
    Z, _ = diabetes_xy(True)
    assert number(r"κ = ([\d.e+]+)\*\*; standardized", t[0]) == pytest.approx(condition_number(X), rel=5e-3)
    assert number(r"standardized it is \*\*κ = ([\d.]+)", t[0]) == pytest.approx(
        condition_number(Z), rel=5e-3
    )
    raw_alpha, z_alpha = (v.settings.alpha for v in guide.variants)
    raw_loss = loop(X, y, alpha=raw_alpha, epochs=1000)
    _, j_star = optimum(X, y)
    assert number(r"the MSE is ([\d,.]+)", t[1]) == pytest.approx(raw_loss.min(), abs=5e-3)
    assert "does not reach the optimum" in t[1] and first_reaching(raw_loss, j_star) is None
    z_loss = loop(Z, y, alpha=z_alpha, epochs=100)
    assert first_reaching(z_loss, optimum(Z, y)[1]) == int(number(r"at epoch \*\*(\d+)\*\*", t[2]))


def test_ravine_claims(guides):
    guide = guides["ravine"]
    t = texts(guide)
    momentum_variant, gd_variant, nesterov_variant = guide.variants
    Z, y = diabetes_xy(True)
    _, j_star = optimum(Z, y)
    A = design_matrix(Z)
    lam = np.linalg.eigvalsh(2.0 / len(A) * A.T @ A)
    alpha_star = 4.0 / (np.sqrt(lam[-1]) + np.sqrt(lam[0])) ** 2
    beta_star = ((np.sqrt(lam[-1]) - np.sqrt(lam[0])) / (np.sqrt(lam[-1]) + np.sqrt(lam[0]))) ** 2
    assert number(r"α\* = 4/\(√λ_max \+ √λ_min\)² = ([\d.]+)", t[0]) == pytest.approx(alpha_star, abs=5e-5)
    assert dict(momentum_variant.settings.hyper)["momentum_beta"] == pytest.approx(beta_star, rel=1e-9)
    assert dict(nesterov_variant.settings.hyper)["nesterov_beta"] == pytest.approx(beta_star, rel=1e-9)
    s = momentum_variant.settings
    start = {"w0": s.w0, "b0": s.b0, "epochs": s.epochs}
    momentum = loop(Z, y, "momentum", alpha=s.alpha, beta=beta_star, **start)
    plain = loop(Z, y, alpha=gd_variant.settings.alpha, **start)
    m, g = first_reaching(momentum, j_star), first_reaching(plain, j_star)
    assert re.findall(r"at epoch \*\*(\d+)\*\*", t[1]) == [str(m), str(g)]
    assert g > 3 * m
    nesterov = loop(Z, y, "nesterov", alpha=s.alpha, beta=beta_star, **start)
    assert "**diverges**" in t[2] and diverged(nesterov, s.epochs)


def test_minibatch_claims(guides):
    guide = guides["minibatch"]
    t = texts(guide)
    X, y = blog_xy()
    _, j_star = optimum(X, y)
    alpha = guide.variants[0].settings.alpha
    for text, batch in zip(t, (1, 32, None), strict=True):
        loss = loop(X, y, alpha=alpha, epochs=100, batch=batch)
        tail = loss[51:]
        ups = int(np.sum(np.diff(loss[50:]) > 0))
        assert number(r"up in \**(\d+)\** of them", text) == ups
        if batch is not None:
            assert number(r"up to ([\d.]+)% above", text) == pytest.approx(
                100 * (tail.max() / j_star - 1), abs=0.05
            )
    assert number(r"up in \**(\d+)\** of them", t[0]) > 0


def test_adaptive_claims(guides):
    guide = guides["adaptive"]
    t = texts(guide)
    alpha = guide.variants[0].settings.alpha
    X, y = diabetes_xy(False)
    _, raw_star = optimum(X, y)
    above = []
    for name in ("adam", "rmsprop", "adagrad"):
        loss = loop(X, y, name, alpha=alpha, epochs=1000)
        assert not diverged(loss, 1000), name
        above.append(100 * (loss.min() / raw_star - 1))
    assert number(r"end ([\d.]+)% to", t[0]) == pytest.approx(min(above), abs=0.05)
    assert number(r"to ([\d.]+)% above", t[0]) == pytest.approx(max(above), abs=0.05)
    assert "plain GD **diverges**" in t[1] and diverged(loop(X, y, alpha=alpha, epochs=1000), 1000)
    Z, _ = diabetes_xy(True)
    _, j_star = optimum(Z, y)
    gd_epoch = first_reaching(loop(Z, y, alpha=alpha, epochs=1000), j_star)
    assert gd_epoch == int(number(r"first, at epoch \*\*(\d+)\*\*", t[2]))
    for name in ("adagrad", "rmsprop", "adam"):
        other = first_reaching(loop(Z, y, name, alpha=alpha, epochs=1000), j_star)
        assert other is None or other > gd_epoch, name


def test_unknown_experiment_is_refused(lab):
    with pytest.raises(ValueError, match="experiment must be one of"):
        guided.open_guide("nope", lab)


# ------------------------------------------------------------------ the page
def decode(arrow: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(arrow).read_all().to_pandas()


def chart_tables(at: AppTest, first_dataset: str) -> dict[str, pd.DataFrame]:
    for chart in at.get("vega_lite_chart"):
        if chart.proto.datasets and chart.proto.datasets[0].name == first_dataset:
            json.loads(chart.proto.spec)
            return {ds.name: decode(ds.data.data) for ds in chart.proto.datasets}
    raise AssertionError(f"no chart reads {first_dataset}")


def page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query or {})
    at.run()
    assert_ok(at)
    return at


def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def markdown(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def current_query(at: AppTest) -> dict[str, str]:
    return dict(at.query_params)


@pytest.mark.parametrize("slug", list(guided.EXPERIMENTS))
def test_a_link_opens_the_experiment(slug, guides):
    guide = guides[slug]
    at = page({"experiment": slug})
    assert at.session_state["experiment"] == slug
    assert current_query(at) == to_query(guide.variants[0].settings) | {"experiment": slug}
    shown = markdown(at)
    assert f"Experiment {guide.number} of {len(guides)}: {guide.experiment.title}" in shown
    for finding in guide.findings:
        assert finding.text in shown
    # The page's own run is the experiment's first variant's run: the headline's best epoch agrees.
    best = {m.label: m.value for m in at.metric}["Best epoch"]
    first = next(iter(guided.DirectLab().runs(guide.variants[0].settings).values()))
    assert best == f"{first.best_epoch:,}"


def test_the_menu_and_the_variant_buttons_set_every_control(guides):
    guide = guides["cliff"]
    at = page()
    at.selectbox(key="experiment").set_value("cliff").run()
    assert_ok(at)
    assert current_query(at) == to_query(guide.variants[0].settings) | {"experiment": "cliff"}
    at.button(key="experiment_variant_1").click().run()
    assert_ok(at)
    assert at.session_state["alpha"] == guide.variants[1].settings.alpha
    assert current_query(at) == to_query(guide.variants[1].settings) | {"experiment": "cliff"}
    assert at.button(key="experiment_variant_1").proto.type == "primary"
    assert at.button(key="experiment_variant_0").proto.type == "secondary"


def test_the_hyperparameters_of_an_experiment_survive_reruns(guides):
    guide = guides["ravine"]
    at = page({"experiment": "ravine"})
    at.run()
    assert_ok(at)
    beta = dict(guide.variants[0].settings.hyper)["momentum_beta"]
    assert at.session_state["momentum_beta"] == beta
    assert current_query(at)["experiment"] == "ravine"
    at.button(key="experiment_variant_2").click().run()  # Nesterov at the same pair
    at.run()
    assert_ok(at)
    assert at.session_state["nesterov_beta"] == beta and at.session_state["optimizers"] == ["nesterov"]
    assert current_query(at) == to_query(guide.variants[2].settings) | {"experiment": "ravine"}
    assert any("**Diverged**" in e.value for e in at.error)


def test_changed_settings_leave_the_experiment_and_say_so():
    at = page({"experiment": "best-step"})
    at.get_by_key("epochs").set_value(50).run()
    assert_ok(at)
    assert "experiment" not in current_query(at)
    assert any("settings have changed since" in c.value for c in at.caption)
    at.button(key="experiment_variant_0").click().run()
    assert current_query(at)["experiment"] == "best-step"


def test_a_share_link_made_in_a_variant_opens_that_variant(guides):
    guide = guides["minibatch"]
    query = to_query(guide.variants[1].settings) | {"experiment": "minibatch"}
    at = page(query)
    assert current_query(at) == query
    assert at.session_state["batch_size"] == 32


def test_an_unknown_experiment_is_a_notice():
    at = page({"experiment": "<b>nope</b>", "alpha": "0.501"})
    notices = [plain_text(w.value) for w in at.warning]
    assert any("experiment must be one of" in n and "<b>nope</b>" in n for n in notices)
    assert at.session_state["experiment"] == ""
    assert at.session_state["alpha"] == 0.501 and current_query(at) == {"alpha": "0.501"}


def test_a_bad_blog_code_value_is_a_notice_and_the_rest_is_kept():
    at = page({"blog_code": "maybe", "alpha": "0.501"})
    notices = [plain_text(w.value) for w in at.warning]
    assert any("blog_code must be true or false; got 'maybe'" in n for n in notices)
    assert at.session_state["blog_code"] is False and at.session_state["alpha"] == 0.501
    assert current_query(at) == {"alpha": "0.501"}


def test_a_blog_code_run_that_overflows_at_once_is_said_not_drawn(lab):
    prepared = lab.prepared(DEFAULTS)
    run, note = blogcode.blog_overlay(prepared, gdcore.RunSpec(alpha=1e308))
    assert run is None and "is not drawn" in note and "overflows in its first epoch" in note
    run, note = blogcode.blog_overlay(prepared, gdcore.RunSpec())
    assert gdcore.blog_printout(run) == SEED_BLOG_BUG_LINE and SEED_BLOG_BUG_LINE in note


def test_the_blog_code_overlay_reproduces_the_seed_line():
    at = page({"blog_code": "true"})
    loss = chart_tables(at, "loss")["loss"]
    blog = loss[loss["run"] == BLOG_CODE_NAME].sort_values("epoch")
    assert blog["epoch"].tolist() == list(range(100))
    best = blog.loc[blog["best"]].iloc[0]
    assert (int(best["epoch"]), round(float(best["loss"]), 3)) == (1, 213166.221)
    parameters = chart_tables(at, "parameters")["parameters"]
    at_best = parameters[(parameters["run"] == BLOG_CODE_NAME) & (parameters["epoch"] == 1)]
    values = dict(zip(at_best["parameter"], at_best["value"], strict=True))
    assert (round(values["w"], 3), round(values["b"], 3)) == (-0.41, -0.233)
    assert any(f"It prints `{SEED_BLOG_BUG_LINE}`" in c.value for c in at.caption)
    # The fixed run is still the headline's, and the blog's code is not one of the compared runs.
    assert {m.label: m.value for m in at.metric}["Best epoch"] == "100"
    at.session_state["results_open"] = True  # the results table, opened as a click does
    at.run()
    table = next(d.value for d in at.dataframe if "reached optimum at epoch" in d.value.columns)
    assert BLOG_CODE_NAME not in table["run"].tolist()
    open_tab(at, "math")
    assert "line **Blog's code (buggy)**" in markdown(at)


def test_without_the_overlay_the_pitfall_says_how_to_show_it():
    at = page()
    assert BLOG_CODE_NAME not in set(chart_tables(at, "loss")["loss"]["run"])
    open_tab(at, "math")
    assert "Turn on **Show the blog's code (buggy)**" in markdown(at)


def test_the_overlay_needs_one_feature():
    at = page({"blog_code": "true", "features": "2"})
    assert BLOG_CODE_NAME not in set(chart_tables(at, "loss")["loss"]["run"])
    assert any("runs on one feature only" in c.value for c in at.caption)


def test_the_overlay_follows_the_settings():
    at = page({"blog_code": "true", "alpha": "0.001", "epochs": "300", "w0": "5"})
    loss = chart_tables(at, "loss")["loss"]
    X, y = blog_xy()
    expected = gdcore.blog_code_run(X, y, alpha=0.001, epochs=300, w0=5.0)
    blog = loss[loss["run"] == BLOG_CODE_NAME].sort_values("epoch")
    np.testing.assert_allclose(blog["loss"], expected.loss[blog["epoch"].to_numpy()], rtol=1e-12)


def test_defaults_are_the_blog_experiment():
    assert guided.canonical(DEFAULTS) == DEFAULTS
    assert guided.canonical(replace(DEFAULTS, blog_code=True)).blog_code
