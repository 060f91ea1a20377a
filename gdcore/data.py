"""Data sets: the blog's synthetic regression data, with its true coefficients, and curves (`CurveSpec`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

import gdcore.blog_data as blog_data
from gdcore.validation import check


@dataclass(frozen=True)
class Dataset:
    """Features `X` (N, d), target `y` (N,), and what is known about them.

    `coef` holds the true coefficients when the data is synthetic (NaN otherwise); `intercept` the true
    intercept likewise.
    """

    X: np.ndarray
    y: np.ndarray
    coef: np.ndarray
    feature_names: tuple[str, ...]
    name: str
    target_name: str = "y"
    intercept: float = float("nan")
    notes: tuple[str, ...] = field(default=())

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


def default_feature_names(n_features: int) -> tuple[str, ...]:
    """'x' for one feature, 'x1'..'xd' for several."""
    return ("x",) if n_features == 1 else tuple(f"x{i + 1}" for i in range(n_features))


def make_data(
    n_samples: int = 100,
    n_features: int = 1,
    noise: float = 20.0,
    seed: int = 42,
    intercept: float = 0.0,
) -> Dataset:
    """The blog's data: `sklearn.datasets.make_regression(..., bias=intercept, coef=True, random_state=seed)`.

    y = X @ coef + intercept + noise * e, e ~ N(0, 1); the same seed always gives the same data. The
    blog's own arguments (the defaults) return make_regression's output as stored in `blog_data`,
    without importing scikit-learn (see there why).
    """
    n_samples = check("n_samples", n_samples)
    n_features = check("n_features", n_features)
    noise = check("noise", noise)
    seed = check("seed", seed)
    intercept = check("intercept", intercept)
    arguments = {
        "n_samples": n_samples,
        "n_features": n_features,
        "noise": noise,
        "seed": seed,
        "intercept": intercept,
    }
    if arguments == blog_data.ARGUMENTS:
        X, y, coef = np.array(blog_data.X)[:, None], np.array(blog_data.Y), np.array(blog_data.COEF)
    else:
        from sklearn.datasets import make_regression

        X, y, coef = make_regression(
            n_samples=n_samples,
            n_features=n_features,
            noise=noise,
            bias=intercept,
            coef=True,
            random_state=seed,
        )
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        coef=np.atleast_1d(np.asarray(coef, dtype=np.float64)),
        feature_names=default_feature_names(n_features),
        name=f"make_regression(n_samples={n_samples}, n_features={n_features}, "
        f"noise={noise:g}, random_state={seed})",
        intercept=intercept,
    )


@dataclass(frozen=True)
class SyntheticSpec:
    """The synthetic data set, described once (hashable): `make_data`'s arguments, the blog's defaults."""

    n_samples: int = 100
    n_features: int = 1
    noise: float = 20.0
    seed: int = 42
    intercept: float = 0.0

    def make(self) -> Dataset:
        return make_data(**asdict(self))

    def changed(self) -> dict[str, object]:
        """The arguments that differ from the blog's (what a reproduce snippet needs to say)."""
        default = SyntheticSpec()
        return {key: value for key, value in asdict(self).items() if getattr(default, key) != value}


CURVE_SHAPES = ("cubic", "sine")
# The cubic's true coefficients of x, x^2, x^3 and its intercept: y = 0.5 x^3 - x^2 - 2 x + 1 + noise.
CUBIC_COEF = (-2.0, -1.0, 0.5)
CUBIC_INTERCEPT = 1.0


def make_curve(
    shape: str = "cubic", n_samples: int = 100, noise: float = 1.0, seed: int = 42, x_range: float = 3.0
) -> Dataset:
    """Data that is not a line: x ~ Uniform(-x_range, x_range), and

    * "cubic": y = 0.5 x^3 - x^2 - 2 x + 1 + noise * e (true coefficients of x, x^2, x^3 in `coef`),
    * "sine":  y = 3 sin(x) + noise * e (no finite polynomial: `coef` is NaN),

    e ~ N(0, 1), drawn with `np.random.default_rng(seed)`: the same seed always gives the same data.
    X is the one input x, (N, 1); expand it with `gdcore.features.polynomial_features`.
    """
    if shape not in CURVE_SHAPES:
        raise ValueError(f"shape must be one of {', '.join(CURVE_SHAPES)}; got {shape!r}")
    n_samples = check("n_samples", n_samples)
    noise = check("noise", noise)
    seed = check("seed", seed)
    if isinstance(x_range, bool) or not isinstance(x_range, int | float) or not 0 < x_range <= 10:
        raise ValueError(f"x_range must be a number > 0 and <= 10; got {x_range!r}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-x_range, x_range, n_samples)
    errors = rng.standard_normal(n_samples)
    if shape == "cubic":
        coef = np.array(CUBIC_COEF)
        intercept = CUBIC_INTERCEPT
        clean = x * coef[0] + x**2 * coef[1] + x**3 * coef[2] + intercept
    else:
        coef = np.array([float("nan")])
        intercept = float("nan")
        clean = 3.0 * np.sin(x)
    return Dataset(
        X=x.reshape(-1, 1),
        y=clean + noise * errors,
        coef=coef,
        feature_names=("x",),
        name=f"{shape} curve (n_samples={n_samples}, noise={noise:g}, seed={seed})",
        intercept=intercept,
    )


@dataclass(frozen=True)
class CurveSpec:
    """The curve data set, described once (hashable): `make_curve`'s arguments."""

    shape: str = "cubic"
    n_samples: int = 100
    noise: float = 1.0
    seed: int = 42
    x_range: float = 3.0

    def make(self) -> Dataset:
        return make_curve(**asdict(self))

    def changed(self) -> dict[str, object]:
        """The arguments that differ from the defaults (what a reproduce snippet needs to say)."""
        default = CurveSpec()
        return {key: value for key, value in asdict(self).items() if getattr(default, key) != value}
