"""Feature standardization, z = (x - mean) / scale, and the map of fitted weights back to original units.

Gradient descent on features of very different sizes is slow: the Hessian H = (2/N) A^T A has a large
condition number, and the step size is limited by its largest eigenvalue. Z-scores give every feature mean
0 and variance 1, which rounds the loss contours. Only the features are scaled; y keeps its units, so the
loss values stay comparable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gdcore.data import Dataset
from gdcore.validation import as_regression_arrays


@dataclass(frozen=True)
class Scaler:
    """The per-feature `mean` (d,) and `scale` (d,) of z = (x - mean) / scale.

    `scale` is the population standard deviation (ddof = 0, as scikit-learn's StandardScaler); a constant
    feature keeps scale 1, so it becomes a column of zeros (named in `constant_features` and `note`).
    """

    mean: np.ndarray
    scale: np.ndarray
    feature_names: tuple[str, ...]
    constant_features: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        if not self.constant_features:
            return ""
        return (
            f"constant feature(s) {', '.join(map(repr, self.constant_features))} kept scale 1: centred to a "
            "column of zeros, a flat direction of the loss"
        )

    def transform(self, X) -> np.ndarray:
        """z_ij = (x_ij - mean_j) / scale_j for X of shape (N, d), or (N,) when d = 1."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1 and self.mean.size == 1:
            X = X.reshape(-1, 1)
        if X.ndim != 2 or X.shape[1] != self.mean.size:
            raise ValueError(
                f"X must have shape (N, {self.mean.size}) to match the fitted features; got shape {X.shape}"
            )
        return (X - self.mean) / self.scale

    def to_original(self, weights, bias) -> tuple[np.ndarray, float | np.ndarray]:
        """Map (w, b) fitted on z-scores to the same predictions on the original features.

        w z + b = sum_j w_j (x_j - mean_j) / scale_j + b, so
        w_orig_j = w_j / scale_j  and  b_orig = b - sum_j w_j mean_j / scale_j.
        `weights` may be (d,) or a trajectory (K, d) with `bias` (K,); the bias comes back as a float for
        one parameter vector and as an array otherwise.
        """
        w, b = self._params(weights, bias)
        w_orig = w / self.scale
        b_orig = b - w_orig @ self.mean
        return w_orig, _scalar_or_array(b_orig)

    def to_standardized(self, weights, bias) -> tuple[np.ndarray, float | np.ndarray]:
        """The inverse of `to_original`: w_j = w_orig_j * scale_j and b = b_orig + sum_j w_orig_j mean_j."""
        w, b = self._params(weights, bias)
        return w * self.scale, _scalar_or_array(b + w @ self.mean)

    def _params(self, weights, bias) -> tuple[np.ndarray, np.ndarray]:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim == 0 and self.mean.size == 1:
            w = w.reshape(1)
        if w.ndim == 0 or w.shape[-1] != self.mean.size:
            raise ValueError(
                f"weights must have {self.mean.size} entries per parameter vector; got shape {w.shape}"
            )
        b = np.asarray(bias, dtype=np.float64)
        if b.shape != w.shape[:-1]:
            raise ValueError(f"bias must have shape {w.shape[:-1]} to match weights {w.shape}; got {b.shape}")
        return w, b


def standardize(dataset: Dataset, scaler: Scaler | None = None) -> tuple[Dataset, Scaler]:
    """Return the dataset with z-scored features, z = (x - mean) / scale, and the Scaler used.

    Without `scaler`, mean_j = (1/N) sum_i x_ij and scale_j = sqrt((1/N) sum_i (x_ij - mean_j)^2) are
    fitted on this dataset. Pass the scaler fitted on a training set to apply it to the test set. Known
    true coefficients are carried over into standardized units: coef_z = coef * scale and
    intercept_z = intercept + coef . mean.
    """
    X, _ = as_regression_arrays(dataset.X, dataset.y)
    if scaler is None:
        mean = X.mean(axis=0)
        spread = X.std(axis=0)
        constant = (X.min(axis=0) == X.max(axis=0)) | (spread == 0.0)
        scale = np.where(constant, 1.0, spread)
        names = dataset.feature_names
        scaler = Scaler(
            mean, scale, tuple(names), tuple(n for n, c in zip(names, constant, strict=True) if c)
        )
    X_z = scaler.transform(X)
    coef = np.asarray(dataset.coef, dtype=np.float64)
    notes = ["features standardized: z = (x - mean) / scale"]
    if scaler.note:
        notes.append(scaler.note)
    return (
        replace(
            dataset,
            X=np.ascontiguousarray(X_z),
            coef=coef * scaler.scale,
            intercept=float(dataset.intercept + coef @ scaler.mean),
            name=f"{dataset.name}, standardized",
            notes=(*dataset.notes, *notes),
        ),
        scaler,
    )


def _scalar_or_array(value: np.ndarray) -> float | np.ndarray:
    return float(value) if value.ndim == 0 else value
