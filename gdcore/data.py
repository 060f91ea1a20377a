"""Data sets: the blog's synthetic regression data, with its true coefficients."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.datasets import make_regression

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

    y = X @ coef + intercept + noise * e, e ~ N(0, 1); the same seed always gives the same data.
    """
    n_samples = check("n_samples", n_samples)
    n_features = check("n_features", n_features)
    noise = check("noise", noise)
    seed = check("seed", seed)
    intercept = check("intercept", intercept)
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
