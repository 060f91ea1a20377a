"""Named real data sets bundled with scikit-learn (offline), and a seeded train/test split of any Dataset."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from gdcore.data import Dataset
from gdcore.validation import IntRange, RealRange, as_regression_arrays, check

DATASET_NAMES = ("diabetes",)
TEST_FRACTION = RealRange(low=0.0, high=0.5)  # allowed test_fraction, [0, 0.5]
ROWS = IntRange(2, 2**62)  # a split needs 2 rows; a CSV may hold more than LIMITS["n_samples"]
MIN_SPLIT_ROWS = 2  # each non-empty part of a split needs 2 rows, as every Dataset does


def load_dataset(name: str) -> Dataset:
    """A real data set bundled with scikit-learn, in its original units.

    "diabetes": `sklearn.datasets.load_diabetes(scaled=False)`, 442 patients, 10 features (age, sex, bmi,
    bp, s1..s6) and y = disease progression one year after baseline. The features keep their units (years,
    mmHg, mg/dl...), so the Hessian's condition number is about 5e7 raw and about 470 standardized: the
    data that shows why feature scaling matters.
    """
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        bunch = load_diabetes(scaled=False)
        X = np.ascontiguousarray(bunch.data, dtype=np.float64)
        return Dataset(
            X=X,
            y=np.asarray(bunch.target, dtype=np.float64),
            coef=np.full(X.shape[1], np.nan),
            feature_names=tuple(str(n) for n in bunch.feature_names),
            name="diabetes (scikit-learn, 442 patients)",
            target_name="progression",
            notes=(
                "features in original units: age (years), sex (1 or 2), bmi, bp (mean blood pressure), "
                "s1..s6 (blood serum measurements); target: disease progression one year after baseline",
            ),
        )
    raise ValueError(f"unknown data set {name!r}; allowed: {', '.join(map(repr, DATASET_NAMES))}")


def train_test_indices(n_samples: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted row indices (train, test) of a seeded random split.

    n_test = ceil(test_fraction * N) rows chosen by `np.random.default_rng(seed).permutation(N)`, the rest
    train; test_fraction = 0 gives an empty test index array. Raises ValueError if test_fraction is outside
    [0, 0.5], or if the training part (or a non-empty test part) would have fewer than 2 rows.
    """
    n = ROWS.check("n_samples", n_samples)
    fraction = TEST_FRACTION.check("test_fraction", test_fraction)
    seed = check("seed", seed)
    n_test = math.ceil(fraction * n - 1e-9) if fraction > 0 else 0  # 1e-9: 0.3 * 10 must give 3, not 4
    if 0 < n_test < MIN_SPLIT_ROWS:
        raise ValueError(
            f"test_fraction={fraction:g} of {n} rows gives {n_test} test row(s); a test set needs at least "
            f"{MIN_SPLIT_ROWS}: use test_fraction=0 or a fraction of at least {MIN_SPLIT_ROWS / n:.3g}"
        )
    if n - n_test < MIN_SPLIT_ROWS:
        raise ValueError(
            f"test_fraction={fraction:g} of {n} rows leaves {n - n_test} training row(s); "
            f"at least {MIN_SPLIT_ROWS} are needed: use a smaller test_fraction or more rows"
        )
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def train_test_split(dataset: Dataset, test_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Split the rows of `dataset` at random into (train, test), reproducibly for a given seed.

    See `train_test_indices` for the rule (n_test = ceil(test_fraction * N)); rows keep their original
    order within each part. With test_fraction = 0 the test Dataset is empty: X of shape (0, d) and y of
    shape (0,), with the same feature names; check `test.n_samples == 0` before using it.
    """
    X, y = as_regression_arrays(dataset.X, dataset.y)
    train_rows, test_rows = train_test_indices(X.shape[0], test_fraction, seed)

    def part(rows: np.ndarray, label: str) -> Dataset:
        return replace(
            dataset,
            X=np.ascontiguousarray(X[rows]),
            y=y[rows],
            name=f"{dataset.name}, {label} ({rows.size} of {X.shape[0]} rows, seed {seed})",
        )

    return part(train_rows, "train"), part(test_rows, "test")
