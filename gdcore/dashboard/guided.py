"""Guided experiments: short, curated lessons, each one click that sets every control. No Streamlit here.

An experiment is a title, the question it answers, what to look at and one sentence of why, plus
*variants*: dashboard `Settings` (the same values a share link carries), the first of which a click
loads. Its *findings* are sentences whose every number and verb ("diverges", "at epoch 9", "κ = 5.24e7")
is computed from the runs of its variants when the experiment is opened, never written in; each finding
also says whether the run showed what the experiment is about (`Finding.holds`), which the tests check.

Settings are chosen from the data, not typed in: "α just above α_max" is the slider's first value above
this data's α_max, computed from its Hessian. The runs come from a `Lab` (the page passes its cached
runs, so a click on a variant finds them ready; `direct_lab()` computes them for a notebook or a test).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from gdcore.dashboard.experiment import DataSource, Prepared, load_source, prepare, run_optimizers
from gdcore.dashboard.settings import ALPHA_CHOICES, DEFAULTS, Settings, parse_query, to_query
from gdcore.limits import forecast_epoch, limits_for
from gdcore.optimizers import OPTIMIZERS
from gdcore.reference import blog_code_run, blog_printout, blog_shape_pitfall
from gdcore.trajectory import REACHED_FRACTION, Trajectory

FORECAST_LIMIT = 10_000_000  # epochs: a forecast beyond this is said as "more than"


# --- what an experiment is ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One sentence about the experiment's runs (Markdown, numbers computed) and whether it shows what
    the experiment is about (e.g. "the run above α_max diverges": it did)."""

    text: str
    holds: bool


@dataclass(frozen=True)
class Variant:
    """One configuration of the page an experiment compares: a button label and the settings it loads."""

    label: str
    settings: Settings


class Lab(Protocol):
    """Where an experiment's data and runs come from."""

    def prepared(self, settings: Settings) -> Prepared: ...

    def runs(self, settings: Settings) -> Mapping[str, Trajectory]: ...


@dataclass(frozen=True)
class Experiment:
    """A curated lesson: its words, and how to build its variants and findings on a `Lab`."""

    slug: str  # the URL value: ?experiment=<slug>
    title: str
    question: str
    look_at: str
    why: str
    variants: Callable[[Lab], tuple[Variant, ...]]
    findings: Callable[[Lab, tuple[Variant, ...]], tuple[Finding, ...]]


@dataclass(frozen=True)
class Guide:
    """An experiment opened on a lab: its variants and its findings, computed."""

    experiment: Experiment
    number: int
    variants: tuple[Variant, ...]
    findings: tuple[Finding, ...]

    def variant_index(self, settings: Settings) -> int | None:
        """Which variant these settings are (compared as a share link carries them), or None."""
        query = to_query(settings)
        return next((k for k, v in enumerate(self.variants) if to_query(v.settings) == query), None)


def canonical(settings: Settings) -> Settings:
    """The settings as a share link restores them (hyperparameters in their canonical order)."""
    restored, notices = parse_query(to_query(settings))
    if notices:  # an experiment asked for a value the controls cannot show: a bug in its definition
        raise ValueError("; ".join(notices))
    return restored


def data_source(settings: Settings) -> DataSource:
    """The data source the settings name (generated data by its spec, else the data set's name)."""
    return settings.data()


@dataclass
class DirectLab:
    """A `Lab` that computes (and remembers) prepared data and runs itself, with `experiment`'s functions."""

    def __post_init__(self) -> None:
        self._prepared: dict = {}
        self._runs: dict = {}

    def prepared(self, settings: Settings) -> Prepared:
        key = (data_source(settings), settings.standardize, settings.test_fraction, settings.seed)
        if key not in self._prepared:
            dataset = load_source(key[0])
            self._prepared[key] = prepare(
                dataset, standardized=key[1], test_fraction=key[2], split_seed=key[3]
            )
        return self._prepared[key]

    def runs(self, settings: Settings) -> Mapping[str, Trajectory]:
        key = (data_source(settings), settings.standardize, settings.test_fraction, settings.seed)
        plan = settings.run_plan()
        if (key, plan) not in self._runs:
            self._runs[key, plan] = run_optimizers(self.prepared(settings), plan)
        return self._runs[key, plan]


def direct_lab() -> DirectLab:
    return DirectLab()


def open_guide(slug: str, lab: Lab) -> Guide:
    """The experiment called `slug`, its variants and findings computed on `lab`. ValueError if unknown."""
    if slug not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {', '.join(EXPERIMENTS)}; got {slug!r}")
    entry = EXPERIMENTS[slug]
    variants = entry.variants(lab)
    return Guide(entry, list(EXPERIMENTS).index(slug) + 1, variants, entry.findings(lab, variants))


# --- numbers the findings need --------------------------------------------------------------------------


def first(runs: Mapping[str, Trajectory]) -> Trajectory:
    return next(iter(runs.values()))


def by_optimizer(runs: Mapping[str, Trajectory], name: str) -> Trajectory:
    return runs[OPTIMIZERS[name].display_name]


def grid_below(value: float, choices: Sequence[float] = ALPHA_CHOICES) -> float | None:
    """The largest slider value strictly below `value` (None if there is none)."""
    below = [c for c in choices if c < value]
    return max(below) if below else None


def grid_above(value: float, choices: Sequence[float] = ALPHA_CHOICES) -> float | None:
    """The smallest slider value strictly above `value` (None if there is none)."""
    above = [c for c in choices if c > value]
    return min(above) if above else None


def grid_nearest(value: float, choices: Sequence[float] = ALPHA_CHOICES) -> float:
    """The slider value nearest `value` on the log scale."""
    return min(choices, key=lambda c: abs(math.log(c / value)))


def gap_closed(run: Trajectory, optimum_loss: float) -> float:
    """(J_0 - J_best) / (J_0 - J*): the share of the starting gap closed."""
    return float((run.loss[0] - run.best_loss) / (run.loss[0] - optimum_loss))


def reached(run: Trajectory, optimum_loss: float) -> int | None:
    """The epoch a run reached the optimum (`Trajectory.epoch_reaching`); None if it diverged."""
    return None if run.diverged else run.epoch_reaching(optimum_loss)


def epochs_up(run: Trajectory, first_epoch: int) -> int:
    """How many epochs from `first_epoch` on ended with a higher loss than the one before."""
    return int(np.sum(np.diff(run.loss[first_epoch - 1 :]) > 0))


def gap_factor(run: Trajectory, optimum_loss: float) -> float:
    """The last epoch's ratio (J_K - J*) / (J_{K-1} - J*): how much the gap grew or shrank."""
    return float((run.loss[-1] - optimum_loss) / (run.loss[-2] - optimum_loss))


def start_of(settings: Settings, prepared: Prepared) -> np.ndarray:
    return settings.run_spec(settings.optimizers[0]).start(prepared.train.n_features)


def forecast_text(epochs: int | None) -> str:
    return f"{epochs:,}" if epochs is not None else f"more than {FORECAST_LIMIT:,}"


def percent_below(value: float, limit: float) -> str:
    return f"{(limit - value) / limit:.0%} below"


def percent_above(value: float, limit: float) -> str:
    return f"{(value - limit) / limit:.0%} above"


def mse(value: float) -> str:
    return f"{value:,.3f}" if abs(value) < 1e7 else f"{value:.4g}"


def reaches(epoch: int | None, epochs: int) -> str:
    """ "reaches the optimum at epoch N" or "does not reach the optimum within its K epochs"."""
    if epoch is None:
        return f"does not reach the optimum within its {epochs:,} epochs"
    return f"reaches the optimum at epoch **{epoch:,}**"


# --- 1. the blog's experiment, done right -------------------------------------------------------------


def blog_variants(lab: Lab) -> tuple[Variant, ...]:
    return (Variant("The blog's settings", DEFAULTS),)


def blog_findings(lab: Lab, variants: tuple[Variant, ...]) -> tuple[Finding, ...]:
    settings = variants[0].settings
    prepared = lab.prepared(settings)
    run, fit = first(lab.runs(settings)), prepared.fit
    closed = gap_closed(run, fit.loss)
    forecast = forecast_epoch(
        prepared.quadratic,
        start_of(settings, prepared),
        settings.alpha,
        fraction=REACHED_FRACTION,
        max_epochs=FORECAST_LIMIT,
    )
    confirmed = None
    if forecast is not None and forecast <= 100_000:
        confirmed = first(lab.runs(replace(settings, epochs=max(forecast, 1)))).epoch_reaching(fit.loss)
    falls = bool(np.all(np.diff(run.loss) < 0))
    return (
        Finding(
            f"After {run.epochs_run:,} epochs at α = {settings.alpha:g} the run has closed **{closed:.1%}** "
            f"of the gap to the optimum: MSE {mse(run.best_loss)} against the least-squares "
            f"{mse(fit.loss)}, and w = {run.best_weights[0]:.3f} against w* = {fit.weights[0]:.3f}.",
            closed < REACHED_FRACTION,
        ),
        Finding(
            f"It would reach the optimum (99.9% of the gap closed) at epoch **{forecast_text(forecast)}**"
            + (
                f", {forecast / settings.epochs:.1f}× the blog's {settings.epochs} epochs: theory's exact "
                f"forecast, and a run of {forecast:,} epochs "
                + ("gets there at that very epoch." if confirmed == forecast else f"says {confirmed}.")
                if forecast is not None
                else "."
            ),
            forecast is not None and forecast > settings.epochs and confirmed == forecast,
        ),
        Finding(
            "Its loss "
            + ("falls in every epoch" if falls else "does not fall in every epoch")
            + f" (the loss chart); it prints `{run.summary_line()}`.",
            falls,
        ),
    )


# --- 2. the blog's bug --------------------------------------------------------------------------------


def bug_variants(lab: Lab) -> tuple[Variant, ...]:
    return (
        Variant("The blog's settings, its code beside the fix", canonical(replace(DEFAULTS, blog_code=True))),
    )


def bug_findings(lab: Lab, variants: tuple[Variant, ...]) -> tuple[Finding, ...]:
    settings = variants[0].settings
    prepared = lab.prepared(settings)
    train = prepared.train
    fixed = first(lab.runs(settings))
    spec = settings.run_spec(settings.optimizers[0])
    blog = blog_code_run(train.X, train.y, alpha=spec.alpha, epochs=spec.epochs, w0=spec.w0, b0=spec.b0)
    printed = blog_printout(blog)
    pitfall = blog_shape_pitfall(train.X, train.y, float(spec.w0), spec.b0)
    n = train.n_samples
    ratio = blog.loss[0] / pitfall["correct_error"]
    best = blog.best_epoch
    fixed_falls = bool(np.all(np.diff(fixed.loss) < 0))
    before = (blog.weights[best - 1, 0], blog.bias[best - 1]) if best >= 1 else (float(spec.w0), spec.b0)
    return (
        Finding(
            f"Run as published, the blog's code prints `{printed}`; the fixed loop prints "
            f"`{fixed.summary_line()}`.",
            printed != fixed.summary_line(),
        ),
        Finding(
            f"Its `Y - Y_pred` is {pitfall['y_shape']} − ({n}, 1), broadcast to a "
            f"{pitfall['residual_shape'][0]}×{pitfall['residual_shape'][1]} matrix: its first “error” is "
            f"{blog.loss[0]:,.1f}, **{ratio:,.0f}×** the true MSE {pitfall['correct_error']:,.1f} at the "
            "same start.",
            pitfall["residual_shape"] == (n, n)
            and math.isclose(blog.loss[0], pitfall["blog_error"], rel_tol=1e-9),
        ),
        Finding(
            f"Its “error” is lowest at epoch {best} and "
            + (
                f"then grows, to {blog.loss[-1]:,.0f} at its last epoch: it **diverges**"
                if blog.diverged
                else "does not grow: it does not diverge"
            )
            + "; the fixed loop's loss "
            + ("falls in every epoch" if fixed_falls else "does not fall in every epoch")
            + f", to {mse(fixed.best_loss)}.",
            blog.diverged and fixed_falls,
        ),
        Finding(
            f"It prints each error beside the weights of the next update: its epoch-{best} error was "
            f"measured at w = {before[0]:.3f}, b = {before[1]:.3f}, the line shows w = "
            f"{blog.weights[best, 0]:.3f}, b = {blog.bias[best]:.3f}.",
            (before[0], before[1]) != (blog.weights[best, 0], blog.bias[best]),
        ),
    )


# --- 3. too big a step ----------------------------------------------------------------------------------


def cliff_variants(lab: Lab) -> tuple[Variant, ...]:
    alpha_max = limits_for(lab.prepared(DEFAULTS).quadratic, "gd").alpha_max
    above, below = grid_above(alpha_max), grid_below(alpha_max)
    return (
        Variant(f"α = {above:g}: just above α_max", canonical(replace(DEFAULTS, alpha=above))),
        Variant(f"α = {below:g}: just below α_max", canonical(replace(DEFAULTS, alpha=below))),
    )


def cliff_findings(lab: Lab, variants: tuple[Variant, ...]) -> tuple[Finding, ...]:
    above_settings, below_settings = variants[0].settings, variants[1].settings
    prepared = lab.prepared(above_settings)
    fit = prepared.fit
    limits = limits_for(prepared.quadratic, "gd")
    alpha_max = limits.alpha_max
    above, below = first(lab.runs(above_settings)), first(lab.runs(below_settings))
    a_up, a_down = above_settings.alpha, below_settings.alpha
    lam_max = float(np.max(prepared.quadratic.eigenvalues))
    predicted = (1.0 - a_up * lam_max) ** 2
    factor = gap_factor(above, fit.loss)
    reach = reached(below, fit.loss)
    w_star = fit.weights[0]
    flips = int(np.sum(np.diff(np.sign(below.weights[:11, 0] - w_star)) != 0))
    scanned = [a for a in ALPHA_CHOICES if alpha_max / 4 <= a <= 4 * alpha_max]
    outcome = {a: first(lab.runs(replace(below_settings, alpha=a))).diverged for a in scanned}
    stable = [a for a in scanned if not outcome[a]]
    unstable = [a for a in scanned if outcome[a]]
    clean_cliff = bool(stable and unstable and max(stable) < alpha_max < min(unstable))
    return (
        Finding(
            f"At α = {a_up:g}, {percent_above(a_up, alpha_max)} α_max = 2/λ_max = {alpha_max:.4g}, the run "
            + (
                f"**diverges**: in its last epoch the gap J − J* grew ×{factor:.3f} (theory: "
                f"(1 − αλ_max)² = {predicted:.3f}), to an MSE of {mse(above.loss[-1])}."
                if above.diverged
                else "does **not** diverge."
            ),
            above.diverged and a_up > alpha_max,
        ),
        Finding(
            f"At α = {a_down:g}, {percent_below(a_down, alpha_max)} α_max, it "
            + ("converges" if not below.diverged else "diverges")
            + f" and {reaches(reach, below.epochs_run)}, although each step "
            f"overshoots: w − w* changes sign {flips} times in the first 10 epochs (the zig-zag).",
            not below.diverged and reach is not None and a_down < alpha_max,
        ),
        Finding(
            f"On the slider, every α from {min(scanned):g} to {max(stable):g} converges and every α from "
            f"{min(unstable):g} to {max(scanned):g} diverges: the cliff is at α_max = {alpha_max:.4g}, "
            "as the 📐 Learning-rate sweep tab draws it."
            if clean_cliff
            else f"On the slider the runs do not split cleanly at α_max = {alpha_max:.4g}.",
            clean_cliff,
        ),
    )


# --- 4. the best fixed step -----------------------------------------------------------------------------


def best_step_variants(lab: Lab) -> tuple[Variant, ...]:
    alpha_opt = limits_for(lab.prepared(DEFAULTS).quadratic, "gd").alpha_opt
    alpha = grid_nearest(alpha_opt)
    return (Variant(f"α = {alpha:g}, nearest α_opt", canonical(replace(DEFAULTS, alpha=alpha, epochs=20))),)


def best_step_findings(lab: Lab, variants: tuple[Variant, ...]) -> tuple[Finding, ...]:
    settings = variants[0].settings
    prepared = lab.prepared(settings)
    fit, limits = prepared.fit, limits_for(prepared.quadratic, "gd")
    run = first(lab.runs(settings))
    reach = reached(run, fit.loss)
    blog_alpha = DEFAULTS.alpha
    slow = forecast_epoch(
        prepared.quadratic, start_of(settings, prepared), blog_alpha, max_epochs=FORECAST_LIMIT
    )
    slow_run = first(lab.runs(replace(settings, alpha=blog_alpha, epochs=max(slow or 1, 1))))
    slow_confirmed = slow is not None and slow_run.epoch_reaching(fit.loss) == slow
    kappa = prepared.theory.condition_number
    best_rate = (kappa - 1) / (kappa + 1)
    rate, blog_rate = limits.rate(settings.alpha), limits.rate(blog_alpha)
    return (
        Finding(
            f"α = {settings.alpha:g}, the slider's value nearest α_opt = 2/(λ_min + λ_max) = "
            f"{limits.alpha_opt:.4g}, {reaches(reach, run.epochs_run)}.",
            reach is not None and reach <= 10,
        ),
        Finding(
            f"The blog's α = {blog_alpha:g} gets there at epoch {forecast_text(slow)}"
            + (f": {slow / reach:,.0f}× as many epochs." if slow is not None and reach else "."),
            slow_confirmed and reach is not None and slow > 10 * max(reach, 1),
        ),
        Finding(
            f"Per epoch the error shrinks ×{rate:.3f} at α = {settings.alpha:g} against ×{blog_rate:.3f} at "
            f"α = {blog_alpha:g}; no fixed step does better than (κ − 1)/(κ + 1) = {best_rate:.3f} "
            f"(κ = {kappa:.3f}), which α_opt reaches.",
            rate < blog_rate
            and rate >= best_rate - 1e-12
            and math.isclose(limits.rate(limits.alpha_opt), best_rate, rel_tol=1e-9),
        ),
    )


# --- 5. badly scaled features ---------------------------------------------------------------------------

DIABETES = replace(DEFAULTS, source="diabetes")


def scaling_variants(lab: Lab) -> tuple[Variant, ...]:
    raw_opt = limits_for(lab.prepared(DIABETES).quadratic, "gd").alpha_opt
    z = replace(DIABETES, standardize=True)
    z_opt = limits_for(lab.prepared(z).quadratic, "gd").alpha_opt
    raw_alpha, z_alpha = grid_below(raw_opt), grid_below(z_opt)
    return (
        Variant(
            f"Raw features, α = {raw_alpha:g}", canonical(replace(DIABETES, alpha=raw_alpha, epochs=1000))
        ),
        Variant(f"Standardized, α = {z_alpha:g}", canonical(replace(z, alpha=z_alpha, epochs=1000))),
    )


def scaling_findings(lab: Lab, variants: tuple[Variant, ...]) -> tuple[Finding, ...]:
    raw_settings, z_settings = variants[0].settings, variants[1].settings
    raw, z = lab.prepared(raw_settings), lab.prepared(z_settings)
    kappa_raw, kappa_z = raw.theory.condition_number, z.theory.condition_number
    raw_run, z_run = first(lab.runs(raw_settings)), first(lab.runs(z_settings))
    raw_limits = limits_for(raw.quadratic, "gd")
    raw_reach, z_reach = reached(raw_run, raw.fit.loss), reached(z_run, z.fit.loss)
    forecast = forecast_epoch(
        raw.quadratic, start_of(raw_settings, raw), raw_settings.alpha, max_epochs=FORECAST_LIMIT
    )
    above = (raw_run.best_loss - raw.fit.loss) / raw.fit.loss
    return (
        Finding(
            f"Raw (ages in years, blood serum in mg/dl...) the Hessian's condition number is "
            f"**κ = {kappa_raw:.3g}**; standardized it is **κ = {kappa_z:.3g}**, {kappa_raw / kappa_z:,.0f}× "
            "smaller.",
            kappa_raw > 1000 * kappa_z,
        ),
        Finding(
            f"Raw, the largest stable step is α_max = {raw_limits.alpha_max:.3g}, so the slider's α = "
            f"{raw_settings.alpha:g}; after {raw_run.epochs_run:,} epochs the MSE is {mse(raw_run.best_loss)}, "
            f"{above:.1%} above the optimum {mse(raw.fit.loss)}: it {reaches(raw_reach, raw_run.epochs_run)} "
            f"(theory: it would at epoch {forecast_text(forecast)}).",
            raw_reach is None and not raw_run.diverged,
        ),
        Finding(
            f"Standardized, the same optimum (MSE {mse(z.fit.loss)}): at α = {z_settings.alpha:g} GD "
            f"{reaches(z_reach, z_run.epochs_run)}.",
            z_reach is not None and math.isclose(z.fit.loss, raw.fit.loss, rel_tol=1e-6),
        ),
    )


# --- 6. momentum in a ravine ----------------------------------------------------------------------------


RAVINE_START = {"w0": 0.0, "b0": 100.0}  # the bias near its optimum (152): the gap lies along the valley


def ravine_variants(lab: Lab) -> tuple[Variant, ...]:
    z = replace(DIABETES, standardize=True, epochs=300, **RAVINE_START)
    quadratic = lab.prepared(z).quadratic
    alpha_star, beta_star = limits_for(quadratic, "momentum").polyak
    limit = limits_for(quadratic, "momentum", beta=beta_star).alpha_max
    momentum_alpha = grid_below(min(alpha_star, limit) * (1 + 1e-12))
    gd_alpha = grid_below(limits_for(quadratic, "gd").alpha_opt)

    def at_pair(name: str) -> Settings:
        return canonical(
            replace(z, optimizers=(name,), alpha=momentum_alpha, hyper=((f"{name}_beta", beta_star),))
        )

    return (
        Variant(f"Momentum at (α*, β*): α = {momentum_alpha:g}", at_pair("momentum")),
        Variant(f"Plain GD at its best step, α = {gd_alpha:g}", canonical(replace(z, alpha=gd_alpha))),
        Variant("Nesterov at the same (α, β)", at_pair("nesterov")),
    )


def ravine_findings(lab: Lab, variants: tuple[Variant, ...]) -> tuple[Finding, ...]:
    momentum_settings, gd_settings, nesterov_settings = (v.settings for v in variants)
    prepared = lab.prepared(momentum_settings)
    quadratic, fit = prepared.quadratic, prepared.fit
    alpha_star, beta_star = limits_for(quadratic, "momentum").polyak
    beta = dict(momentum_settings.hyper)["momentum_beta"]
    momentum_limits = limits_for(quadratic, "momentum", beta=beta)
    nesterov_limits = limits_for(quadratic, "nesterov", beta=beta)
    gd_limits = limits_for(quadratic, "gd")
    momentum = first(lab.runs(momentum_settings))
    gd = first(lab.runs(gd_settings))
    nesterov = first(lab.runs(nesterov_settings))
    alpha = momentum_settings.alpha
    m, g = reached(momentum, fit.loss), reached(gd, fit.loss)
    kappa = prepared.theory.condition_number
    faster = m is not None and g is not None and g > 3 * m
    return (
        Finding(
            f"Here κ = {kappa:,.0f}: Polyak's best pair is α* = 4/(√λ_max + √λ_min)² = {alpha_star:.4g} and "
            f"β* = ((√κ − 1)/(√κ + 1))² = {beta_star:.4f}. α* lies just under momentum's own limit "
            f"2(1 + β*)/λ_max = {momentum_limits.alpha_max:.4g}, so the slider's value below it, "
            f"α = {alpha:g}, is used.",
            alpha <= alpha_star and alpha < momentum_limits.alpha_max and not momentum.diverged,
        ),
        Finding(
            f"From w = {momentum_settings.w0:g}, b = {momentum_settings.b0:g}, momentum "
            f"{reaches(m, momentum.epochs_run)}; plain GD at its best slider step α = {gd_settings.alpha:g} "
            f"{reaches(g, gd.epochs_run)}"
            + (f": {g / m:,.1f}× as many epochs" if faster else "")
            + f". Theory, per epoch: momentum's error shrinks ×{momentum_limits.rate(alpha):.3f}, GD's "
            f"×{gd_limits.rate(gd_settings.alpha):.4f}.",
            faster,
        ),
        Finding(
            "Nesterov with the same β "
            + ("**diverges**" if nesterov.diverged else "does not diverge")
            + f" at α = {alpha:g}: its limit 2(1 + β)/((1 + 2β)λ_max) = {nesterov_limits.alpha_max:.4g} is "
            f"lower than momentum's {momentum_limits.alpha_max:.4g}.",
            nesterov.diverged and alpha > nesterov_limits.alpha_max,
        ),
    )


# --- 7. mini-batch noise --------------------------------------------------------------------------------


def minibatch_variants(lab: Lab) -> tuple[Variant, ...]:
    alpha = grid_nearest(0.05)
    base = replace(DEFAULTS, alpha=alpha)
    return tuple(
        Variant(label, canonical(replace(base, batch_size=size)))
        for label, size in (("Batch 1", 1), ("Batch 32", 32), ("Full batch", None))
    )


def minibatch_findings(lab: Lab, variants: tuple[Variant, ...]) -> tuple[Finding, ...]:
    fit = lab.prepared(variants[0].settings).fit
    runs = [first(lab.runs(v.settings)) for v in variants]
    half = runs[0].epochs_run // 2 + 1
    ups = [epochs_up(run, half) for run in runs]
    swings = [float(np.max(run.loss[half:]) / fit.loss - 1.0) for run in runs]
    counted = runs[0].epochs_run - half + 1
    alpha = variants[0].settings.alpha
    ends = (runs[2].loss[-1] - fit.loss) / fit.loss
    return (
        Finding(
            f"Batch 1 at α = {alpha:g}: over the last {counted} epochs the loss goes up in **{ups[0]}** of them "
            f"and swings up to {swings[0]:.1%} above the optimum: with a fixed α it never settles.",
            ups[0] > 0,
        ),
        Finding(
            f"Batch 32: up in {ups[1]} of them, up to {swings[1]:.1%} above the optimum: averaging 32 rows "
            "makes the steps less noisy.",
            swings[1] < swings[0],
        ),
        Finding(
            f"Full batch: up in {ups[2]} of them, and it ends {ends:.1e} (relative) above the optimum.",
            ups[2] == 0 and swings[2] < swings[1],
        ),
    )


# --- 9. a decaying step -------------------------------------------------------------------------------

DECAY_SCHEDULES = (("inverse_time", "1/t decay"), ("cosine", "cosine to 0"))


def decay_variants(lab: Lab) -> tuple[Variant, ...]:
    base = replace(DEFAULTS, alpha=grid_nearest(0.05), batch_size=1)
    return (
        Variant(f"Batch 1, fixed α = {base.alpha:g}", canonical(base)),
        *(
            Variant(f"Batch 1, {label}", canonical(replace(base, schedule=name)))
            for name, label in DECAY_SCHEDULES
        ),
    )


def relative(value: float) -> str:
    """A relative gap as a percentage with 3 significant digits: 35.5%, 0.449%, 0.000337%."""
    return f"{100 * value:.3g}%"


def decay_findings(lab: Lab, variants: tuple[Variant, ...]) -> tuple[Finding, ...]:
    fit = lab.prepared(variants[0].settings).fit
    runs = [first(lab.runs(v.settings)) for v in variants]
    half = runs[0].epochs_run // 2 + 1
    counted = runs[0].epochs_run - half + 1
    swings = [float(np.max(run.loss[half:]) / fit.loss - 1.0) for run in runs]
    ends = [float(run.loss[-1] / fit.loss - 1.0) for run in runs]
    alpha = variants[0].settings.alpha
    findings = [
        Finding(
            f"Fixed α = {alpha:g}, batch 1: over the last {counted} epochs the loss swings up to "
            f"**{relative(swings[0])}** above the optimum and ends {relative(ends[0])} above it: the step "
            "never shrinks, so neither does the noise each one adds.",
            epochs_up(runs[0], half) > 0 and swings[0] > 0.01,
        )
    ]
    labels = [label for _, label in DECAY_SCHEDULES]
    for label, run, swing, end in zip(labels, runs[1:], swings[1:], ends[1:], strict=True):
        steps = run.alphas
        findings.append(
            Finding(
                f"{label.capitalize()} (α from {steps[0]:g} in epoch 1 to {steps[-1]:.3g} in epoch "
                f"{steps.size:,}): up to **{relative(swing)}** above the optimum over the same epochs, and "
                f"it ends {relative(end)} above it"
                + (
                    f", {ends[0] / end:,.0f} times closer than the fixed step: it settles."
                    if 0 < end < ends[0]
                    else ": not closer than the fixed step."
                ),
                swing < swings[0] and end < ends[0],
            )
        )
    return tuple(findings)


# --- 8. adaptive steps ----------------------------------------------------------------------------------

ADAPTIVE = ("adam", "rmsprop", "adagrad")


def adaptive_variants(lab: Lab) -> tuple[Variant, ...]:
    z = replace(DIABETES, standardize=True)
    alpha = grid_below(limits_for(lab.prepared(z).quadratic, "gd").alpha_opt)
    raw = replace(DIABETES, alpha=alpha, epochs=1000)
    return (
        Variant(
            f"Raw: Adam, RMSProp, AdaGrad at α = {alpha:g}", canonical(replace(raw, optimizers=ADAPTIVE))
        ),
        Variant(f"Raw: plain GD at α = {alpha:g}", canonical(raw)),
        Variant(
            f"Standardized: all four at α = {alpha:g}",
            canonical(replace(raw, standardize=True, optimizers=("gd", *ADAPTIVE))),
        ),
    )


def adaptive_findings(lab: Lab, variants: tuple[Variant, ...]) -> tuple[Finding, ...]:
    adaptive_settings, gd_settings, z_settings = (v.settings for v in variants)
    raw, z = lab.prepared(adaptive_settings), lab.prepared(z_settings)
    adaptive_raw = {name: by_optimizer(lab.runs(adaptive_settings), name) for name in ADAPTIVE}
    raw_gd = first(lab.runs(gd_settings))
    z_runs = lab.runs(z_settings)
    alpha = adaptive_settings.alpha
    above = {name: (run.best_loss - raw.fit.loss) / raw.fit.loss for name, run in adaptive_raw.items()}
    calm = not any(run.diverged for run in adaptive_raw.values())
    reach = {name: reached(by_optimizer(z_runs, name), z.fit.loss) for name in ("gd", *ADAPTIVE)}
    finishers = [epoch for epoch in reach.values() if epoch is not None]
    gd_first = reach["gd"] is not None and reach["gd"] == min(finishers)

    def outcome(name: str) -> str:
        run = by_optimizer(z_runs, name)
        if reach[name] is not None:
            return f"{OPTIMIZERS[name].display_name} at epoch {reach[name]:,}"
        gap = (run.best_loss - z.fit.loss) / z.fit.loss
        return f"{OPTIMIZERS[name].display_name} is still {gap:.1%} above it after {run.epochs_run:,} epochs"

    return (
        Finding(
            "Raw data: "
            + ("Adam, RMSProp and AdaGrad do not diverge" if calm else "an adaptive optimizer diverges")
            + f" at α = {alpha:g}; after {adaptive_settings.epochs:,} epochs they end "
            f"{min(above.values()):.1%} to {max(above.values()):.1%} above the optimum MSE.",
            calm,
        ),
        Finding(
            "Raw data: plain GD "
            + ("**diverges**" if raw_gd.diverged else "does not diverge")
            + f" at the same α: its limit here is α_max = {limits_for(raw.quadratic, 'gd').alpha_max:.3g}.",
            raw_gd.diverged,
        ),
        Finding(
            "Standardized: "
            + (
                f"plain GD reaches the optimum first, at epoch **{reach['gd']:,}**; "
                if gd_first
                else f"plain GD {reaches(reach['gd'], z_settings.epochs)}; "
            )
            + "; ".join(outcome(name) for name in ADAPTIVE)
            + ".",
            gd_first,
        ),
    )


# --- the list -------------------------------------------------------------------------------------------

EXPERIMENTS: Mapping[str, Experiment] = {
    e.slug: e
    for e in (
        Experiment(
            "blog",
            "The blog's experiment, done right",
            "How far from the optimum are the blog's 100 epochs at α = 0.01?",
            "The loss chart's distance to the dashed minimum, and the weight's line below its dashed w*.",
            "α = 0.01 is far below what this data allows, so each epoch closes only a small part of the gap.",
            blog_variants,
            blog_findings,
        ),
        Experiment(
            "blog-bug",
            "The blog's bug, on the chart",
            "What does the blog's code, run exactly as published, actually compute?",
            "The line “Blog's code (buggy)” on the loss and parameter charts, against the fixed run.",
            "NumPy broadcasts y of shape (N,) against predictions of shape (N, 1) to an N×N matrix, so every "
            "sum mixes each prediction with every other row's target.",
            bug_variants,
            bug_findings,
        ),
        Experiment(
            "cliff",
            "Too big a step",
            "What happens when α crosses α_max = 2/λ_max?",
            "The status line and the loss chart for each α; then the cliff in the 📐 Learning-rate sweep tab.",
            "Each epoch multiplies the error along the steepest direction by 1 − αλ_max, whose size passes 1 "
            "exactly at α = 2/λ_max.",
            cliff_variants,
            cliff_findings,
        ),
        Experiment(
            "best-step",
            "The best fixed step",
            "How fast can plain gradient descent be with the right α?",
            "The loss chart: the optimum is reached in a handful of epochs.",
            "α_opt = 2/(λ_min + λ_max) makes the slowest and the fastest direction shrink by the same factor, "
            "the smallest any one step size can give both.",
            best_step_variants,
            best_step_findings,
        ),
        Experiment(
            "scaling",
            "Badly scaled features",
            "Why does gradient descent crawl on raw data, and what does standardizing change?",
            "The condition number (🗂️ Data & weights), the loss chart, and the landscape's narrow valley.",
            "α must stay below 2/λ_max of the steepest direction, so with κ = λ_max/λ_min in the millions the "
            "flattest direction barely moves.",
            scaling_variants,
            scaling_findings,
        ),
        Experiment(
            "ravine",
            "Momentum in a ravine",
            "How much faster is momentum at its best (α, β) on ill-conditioned data, and why is Nesterov's "
            "limit lower?",
            "The loss chart and the status line of each button: momentum's fast fall, plain GD's slow one, "
            "Nesterov's blow-up. The start b = 100 is near the optimum's bias, so the gap lies along the valley.",
            "Momentum's velocity adds up the small, consistent gradient along the valley while the "
            "oscillations across it cancel: the rate falls from about 1 − 2/κ to about 1 − 2/√κ.",
            ravine_variants,
            ravine_findings,
        ),
        Experiment(
            "minibatch",
            "Mini-batch noise",
            "What does a batch of 1 or 32 rows do to the loss curve with a fixed α?",
            "The loss chart's wiggles near the minimum, and the zig-zag path on the landscape.",
            "A batch's gradient is not zero at the optimum, so with a fixed α the parameters keep jumping "
            "around it, more with smaller batches.",
            minibatch_variants,
            minibatch_findings,
        ),
        Experiment(
            "adaptive",
            "Adaptive steps",
            "Do Adam, RMSProp and AdaGrad make feature scaling unnecessary?",
            "The status lines and the loss chart of each button: raw data, then standardized.",
            "They divide each parameter's step by its own gradient size, which tames the scales (no "
            "divergence) but not the correlations between features, and their steps never shrink to zero.",
            adaptive_variants,
            adaptive_findings,
        ),
        Experiment(
            "decay",
            "A decaying step",
            "Why does stochastic gradient descent need a step that shrinks?",
            "The loss chart near the minimum and the step chart under it: the fixed step keeps bouncing, "
            "the decaying ones settle.",
            "A single row's gradient is not zero at the optimum, so each step jumps by about α times it, and "
            "only a step that shrinks toward 0 lets the jumps die out.",
            decay_variants,
            decay_findings,
        ),
    )
}


@functools.cache
def slug_titles() -> dict[str, str]:
    """{slug: "n. title"} in the menu's order."""
    return {slug: f"{k}. {e.title}" for k, (slug, e) in enumerate(EXPERIMENTS.items(), start=1)}
