"""The dashboard's experiment settings: defaults (the blog's), the ranges its controls offer, and the
parsing of shared URLs. No Streamlit here, so the rules are testable and the app stays a thin layout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from gdcore.dashboard.experiment import RunPlan
from gdcore.data import CURVE_SHAPES, CurveSpec, SyntheticSpec
from gdcore.optimizers import OPTIMIZERS
from gdcore.schedules import SCHEDULES, Schedule
from gdcore.spec import RunSpec
from gdcore.validation import IntRange


def _log_grid(low_exp: int, high_exp: int, per_decade: int) -> tuple[float, ...]:
    """10^(k / per_decade) for k in [low_exp*per_decade, high_exp*per_decade], 3 significant digits."""
    values = (10.0 ** (k / per_decade) for k in range(low_exp * per_decade, high_exp * per_decade + 1))
    return tuple(float(f"{v:.3g}") for v in values)


# alpha on a log scale, 1e-7 .. 10, ten steps a decade; holds 0.01 exactly and values past alpha_max. It
# starts as low as 1e-7 so that the step a diverged run suggests is one the user can set, also on data
# of large scale (raw diabetes needs alpha < 1.36e-5).
ALPHA_CHOICES = _log_grid(-7, 1, 10)
SAMPLE_CHOICES = tuple(m * 10**e for e in range(1, 7) for m in (1, 2, 5) if m * 10**e <= 1_000_000)
TOL_CHOICES = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)
SOURCES = ("synthetic", "curve", "diabetes", "csv")
BATCH_CHOICES = (None, 1, 8, 16, 32, 64, 128, 256, 1024)  # None = full batch, as in RunSpec

UI_RANGES = {
    "noise": (0.0, 100.0),
    "seed": (0, 2**32 - 1),
    "epochs": (1, 100_000),
    "w0": (-100.0, 100.0),
    "b0": (-100.0, 100.0),
    "features": (1, 10),
    "intercept": (-100.0, 100.0),
    "test_fraction": (0.0, 0.5),
    "degree": (1, 12),
    "l2": (0.0, 1000.0),
    "curve_noise": (0.0, 10.0),
}


@dataclass(frozen=True)
class Settings:
    """One experiment as the dashboard shows it; the defaults are the blog's."""

    samples: int = 100
    noise: float = 20.0
    seed: int = 42
    alpha: float = 0.01
    epochs: int = 100
    w0: float = 1.0
    b0: float = 0.0
    stop: bool = False
    tol: float = 1e-6
    source: str = "synthetic"
    features: int = 1
    intercept: float = 0.0
    standardize: bool = False
    test_fraction: float = 0.0
    optimizers: tuple[str, ...] = ("gd",)
    batch_size: int | None = None  # None = full batch
    blog_code: bool = False  # overlay the blog's code, run as published (bugs kept), on the charts
    hyper: tuple[tuple[str, float], ...] = ()  # ("momentum_beta", 0.8): changed hyperparameters only
    degree: int = 1  # fit x, x^2, ..., x^degree of the one input (1: the blog's line)
    l2: float = 0.0  # ridge penalty lambda ||w||^2 added to the loss (0: none)
    curve: str = "cubic"  # the curve data's shape (source "curve"), one of CURVE_SHAPES
    curve_noise: float = 1.0  # its noise (its own: make_regression's 20 would hide a curve of height ~10)
    schedule: str = "constant"  # the learning-rate schedule (gdcore.schedules), stepped once per epoch
    schedule_params: tuple[tuple[str, float], ...] = ()  # ("step_gamma", 0.5): changed parameters only
    # One start per weight, set by a click on a landscape of two of several weights; () = every weight
    # starts at w0. Its length must be the data's number of features (`start_fits`).
    w0_each: tuple[float, ...] = ()

    def changed(self) -> dict[str, object]:
        """The settings that differ from the defaults (what a share URL needs to carry)."""
        default = Settings()
        return {k: v for k, v in asdict(self).items() if getattr(default, k) != v}

    def synthetic(self) -> SyntheticSpec:
        """The synthetic data these settings describe."""
        return SyntheticSpec(
            n_samples=self.samples,
            n_features=self.features,
            noise=self.noise,
            seed=self.seed,
            intercept=self.intercept,
        )

    def curve_data(self) -> CurveSpec:
        """The curve data these settings describe (source "curve"): samples and seed shared with the
        synthetic data, the shape and noise its own."""
        return CurveSpec(shape=self.curve, n_samples=self.samples, noise=self.curve_noise, seed=self.seed)

    def data(self) -> SyntheticSpec | CurveSpec | str:
        """The data source these settings name, but an uploaded CSV: a spec of generated data, or the
        bundled data set's name."""
        if self.source == "synthetic":
            return self.synthetic()
        return self.curve_data() if self.source == "curve" else self.source

    def hyperparameters(self, optimizer: str) -> dict[str, float]:
        """This optimizer's changed hyperparameters, {name: value}."""
        prefix = f"{optimizer}_"
        return {key.removeprefix(prefix): value for key, value in self.hyper if key.startswith(prefix)}

    def schedule_spec(self) -> Schedule:
        """The chosen schedule with its changed parameters (keys "<schedule>_<parameter>")."""
        prefix = f"{self.schedule}_"
        return Schedule(
            self.schedule,
            tuple((key.removeprefix(prefix), v) for key, v in self.schedule_params if key.startswith(prefix)),
        )

    def run_spec(self, optimizer: str) -> RunSpec:
        """One optimizer's run (the split seed and the data live elsewhere)."""
        return RunSpec(
            optimizer=optimizer,
            alpha=self.alpha,
            epochs=self.epochs,
            w0=self.w0_each or self.w0,
            b0=self.b0,
            tol=self.tol if self.stop else None,
            batch_size=self.batch_size,
            hyper=tuple(self.hyperparameters(optimizer).items()),
            schedule=self.schedule_spec(),
        )

    def run_plan(self) -> RunPlan:
        """The runs these settings ask for: one spec per chosen optimizer."""
        return RunPlan(tuple(self.run_spec(name) for name in self.optimizers))

    def start_fits(self, n_features: int) -> bool:
        """Whether the per-weight start (if any) has one value per feature of the data."""
        return not self.w0_each or len(self.w0_each) == n_features


DEFAULTS = Settings()
KEYS = tuple(f.name for f in fields(Settings) if f.name not in ("hyper", "schedule_params"))
HYPER_KEYS = {
    f"{opt.name}_{h.name}": h for opt in OPTIMIZERS.values() for h in opt.hyperparameters
}  # widget and URL keys of the hyperparameters, e.g. "adam_beta1"


SNAPPED = ("alpha", "samples", "tol")  # log-scale sliders: a URL value between two choices snaps

# An open end of a registry range moved inward to the nearest value its input offers: decay factors
# [0, 1) are typed with 4 digits, so 0.9999 is the largest; epsilons (0, 1] reach down to 1e-16.
OPEN_END_INSET = {"high": 1e-4, "low": 1e-16}


def _input_range(limits) -> tuple[float, float]:
    """The inclusive (low, high) an input offers for a registry range (every hyperparameter has both)."""
    low = limits.low + (OPEN_END_INSET["low"] if limits.low_open else 0.0)
    high = limits.high - (OPEN_END_INSET["high"] if limits.high_open else 0.0)
    return float(f"{low:.4g}"), float(f"{high:.4g}")


HYPER_RANGES = {key: _input_range(h.limits) for key, h in HYPER_KEYS.items()}
SCHEDULE_KEYS = {
    f"{kind.name}_{p.name}": p for kind in SCHEDULES.values() for p in kind.parameters
}  # widget and URL keys of the schedules' parameters, e.g. "step_gamma", "cosine_T_max"
SCHEDULE_RANGES = {
    key: (p.limits.low, p.limits.high) if isinstance(p.limits, IntRange) else _input_range(p.limits)
    for key, p in SCHEDULE_KEYS.items()
}


def input_range(key: str) -> tuple[float, float]:
    """The inclusive range a number input (and a link) may set for `key`: UI_RANGES, HYPER_RANGES or
    SCHEDULE_RANGES."""
    if key in HYPER_RANGES:
        return HYPER_RANGES[key]
    return SCHEDULE_RANGES[key] if key in SCHEDULE_RANGES else UI_RANGES[key]


def key_default(key: str):
    """The default of a control or link key: a setting, a hyperparameter or a schedule parameter."""
    if key in HYPER_KEYS:
        return HYPER_KEYS[key].default
    return SCHEDULE_KEYS[key].default if key in SCHEDULE_KEYS else getattr(DEFAULTS, key)


def _parse_one(key: str, raw: str):
    """Turn one URL value into a setting the controls can show, or raise ValueError saying why not."""
    text = raw.strip()
    if key == "source":
        if text not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {_quote(raw)}")
        return text
    if key == "schedule":
        if text not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {_quote(raw)}")
        return text
    if key == "curve":
        if text not in CURVE_SHAPES:
            raise ValueError(f"curve must be one of {', '.join(CURVE_SHAPES)}; got {_quote(raw)}")
        return text
    if key == "optimizers":
        names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
        bad = [n for n in names if n not in OPTIMIZERS]
        if bad or not names:
            raise ValueError(f"optimizers must be a comma list of {', '.join(OPTIMIZERS)}; got {_quote(raw)}")
        return names
    if key == "batch_size":
        if text.lower() == "full":
            return None
        number = _number(key, text)
        sizes = BATCH_CHOICES[1:]
        if number == 0:  # links made before "full" was the word for it
            return None
        if number not in sizes:
            raise ValueError(
                f"batch_size must be full or one of {', '.join(map(str, sizes))}; got {_quote(raw)}"
            )
        return int(number)
    if key == "w0_each":
        low, high = UI_RANGES["w0"]
        values = tuple(_number(key, part) for part in text.split(","))
        if not all(low <= v <= high for v in values):
            raise ValueError(
                f"w0_each must be numbers from {_bound(low)} to {_bound(high)}; got {_quote(raw)}"
            )
        return values
    if key in ("stop", "standardize", "blog_code"):
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{key} must be true or false; got {_quote(raw)}")
    number = _number(key, text)
    if key in SNAPPED:
        choices = {"alpha": ALPHA_CHOICES, "samples": SAMPLE_CHOICES, "tol": TOL_CHOICES}[key]
        low, high = min(choices), max(choices)
        if number <= 0 or not low * 0.999 <= number <= high * 1.001:
            raise ValueError(f"{key} must be from {_bound(low)} to {_bound(high)}; got {_quote(raw)}")
        # The control is a log-scale slider: take the nearest value it offers.
        return min(choices, key=lambda c: abs(math.log(c / number)))
    low, high = input_range(key)  # a hyperparameter's range lies inside the registry's limits
    if not low <= number <= high:
        raise ValueError(f"{key} must be from {_bound(low)} to {_bound(high)}; got {_quote(raw)}")
    whole = key in SCHEDULE_KEYS and isinstance(SCHEDULE_KEYS[key].limits, IntRange)
    if whole or key in ("seed", "epochs", "features", "degree"):
        if not number.is_integer():
            raise ValueError(f"{key} must be a whole number; got {_quote(raw)}")
        return int(number)
    return number


def _quote(raw: str, limit: int = 40) -> str:
    """repr of a URL value, shortened: a notice must stay one readable line whatever was pasted."""
    return repr(raw if len(raw) <= limit else raw[:limit] + "…")


def _bound(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _number(key: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{key} must be a number; got {_quote(text)}") from None
    if not math.isfinite(number):
        raise ValueError(f"{key} must be a finite number; got {_quote(text)}")
    return number


def parse_query(params: dict[str, str]) -> tuple[Settings, list[str]]:
    """Settings from URL query parameters; a junk or out-of-range value keeps the default.

    Returns the settings and one notice (a sentence for the page) per value that was not used as given:
    "Link ignored a value: ..." (the default is used) or "Link value snapped: ..." (the nearest value a
    log slider offers is used). Unknown keys are ignored.
    """
    values, hyper, scheduling, notices = {}, [], [], []
    for key in (*KEYS, *HYPER_KEYS, *SCHEDULE_KEYS):
        if key not in params:
            continue
        try:
            value = _parse_one(key, str(params[key]))
        except ValueError as exc:
            default = key_default(key)
            shown = "full batch" if key == "batch_size" and default is None else repr(default)
            notices.append(f"Link ignored a value: {exc}: using the default {shown} instead.")
            continue
        if key in SNAPPED and not math.isclose(value, float(params[key]), rel_tol=1e-3):
            notices.append(
                f"Link value snapped: {key} {_quote(str(params[key]))} is between the slider's values, "
                f"so the nearest one, {value:g}, is used."
            )
        if key in HYPER_KEYS:
            if value != HYPER_KEYS[key].default:
                hyper.append((key, value))
        elif key in SCHEDULE_KEYS:
            if value != SCHEDULE_KEYS[key].default:
                scheduling.append((key, value))
        else:
            values[key] = value
    return replace(DEFAULTS, hyper=tuple(hyper), schedule_params=tuple(scheduling), **values), notices


def to_query(settings: Settings) -> dict[str, str]:
    """The URL query parameters for these settings (defaults are left out to keep links short)."""
    query = {}
    for key, value in settings.changed().items():
        if key in ("hyper", "schedule_params"):
            query.update({name: repr(v) for name, v in value})
        elif key == "optimizers":
            query[key] = ",".join(value)
        elif key == "w0_each":
            query[key] = ",".join(map(repr, value))
        elif isinstance(value, bool):
            query[key] = str(value).lower()
        elif isinstance(value, str):
            query[key] = value
        else:
            query[key] = repr(value)
    return query
