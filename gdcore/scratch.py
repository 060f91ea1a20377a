"""A from-scratch script: the blog's loop, fixed, written out for one data source and one run.

`scratch_script` returns a self-contained Python program that needs numpy and scikit-learn only (no
gdcore): it rebuilds the data (make_regression or diabetes), the seeded train/test split and the
standardization as gdcore does them, runs the chosen optimizer full batch or in mini-batches reshuffled
every epoch by `np.random.default_rng(shuffle_seed).permutation(N)` (gdcore's order), applies gdcore's
stopping rules, and prints the same best-epoch line as `Trajectory.summary_line`. A learner can read it
top to bottom and keep it.
"""

from __future__ import annotations

from gdcore.data import SyntheticSpec
from gdcore.datasets import DATASET_NAMES, TEST_FRACTION
from gdcore.optimizers import OPTIMIZERS
from gdcore.spec import RunSpec
from gdcore.validation import check

# The step of epoch e = 0, 1, ... under each learning-rate schedule (gdcore.schedules, torch's closed
# forms), from the base step alpha_0.
SCHEDULE_STEPS = {
    "step": "alpha_0 * gamma ** (epoch // step_size)",
    "exponential": "alpha_0 * gamma**epoch",
    "inverse_time": "alpha_0 / (1 + decay_rate * epoch / decay_steps)",
    "cosine": "eta_min + (alpha_0 - eta_min) * (1 + np.cos(np.pi * epoch / T_max)) / 2",
    "linear": "alpha_0 * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters)",
}

# The update of each optimizer on the gradients (dw, db), written with the registry's definitions
# (gdcore.optimizers); `state` names what it carries between steps.
UPDATES = {
    "gd": ("", "    w = w - alpha * dw\n    b = b - alpha * db\n"),
    "momentum": (
        "velocity_w, velocity_b = np.zeros_like(w), 0.0  # v_0 = 0\n",
        "    velocity_w = beta * velocity_w + dw  # v <- beta v + g\n"
        "    velocity_b = beta * velocity_b + db\n"
        "    w = w - alpha * velocity_w  # theta <- theta - alpha v\n"
        "    b = b - alpha * velocity_b\n",
    ),
    "nesterov": (
        "velocity_w, velocity_b = np.zeros_like(w), 0.0  # v_0 = 0\n",
        "    velocity_w = beta * velocity_w + dw  # v <- beta v + g\n"
        "    velocity_b = beta * velocity_b + db\n"
        "    w = w - alpha * (dw + beta * velocity_w)  # theta <- theta - alpha (g + beta v)\n"
        "    b = b - alpha * (db + beta * velocity_b)\n",
    ),
    "adagrad": (
        "squares_w, squares_b = np.zeros_like(w), 0.0  # G_0 = 0\n",
        "    squares_w = squares_w + dw * dw  # G <- G + g^2\n"
        "    squares_b = squares_b + db * db\n"
        "    w = w - alpha * dw / (squares_w**0.5 + eps)\n"
        "    b = b - alpha * db / (squares_b**0.5 + eps)\n",
    ),
    "rmsprop": (
        "mean_square_w, mean_square_b = np.zeros_like(w), 0.0  # s_0 = 0\n",
        "    mean_square_w = rho * mean_square_w + (1.0 - rho) * (dw * dw)  # s <- rho s + (1 - rho) g^2\n"
        "    mean_square_b = rho * mean_square_b + (1.0 - rho) * (db * db)\n"
        "    w = w - alpha * dw / (mean_square_w**0.5 + eps)\n"
        "    b = b - alpha * db / (mean_square_b**0.5 + eps)\n",
    ),
    "adam": (
        "step = 0\nm_w, m_b, v_w, v_b = np.zeros_like(w), 0.0, np.zeros_like(w), 0.0  # moments start at 0\n",
        "    step += 1\n"
        "    m_w = beta1 * m_w + (1.0 - beta1) * dw  # m <- beta1 m + (1 - beta1) g\n"
        "    m_b = beta1 * m_b + (1.0 - beta1) * db\n"
        "    v_w = beta2 * v_w + (1.0 - beta2) * (dw * dw)  # v <- beta2 v + (1 - beta2) g^2\n"
        "    v_b = beta2 * v_b + (1.0 - beta2) * (db * db)\n"
        "    m_hat_w, m_hat_b = m_w / (1.0 - beta1**step), m_b / (1.0 - beta1**step)  # bias correction\n"
        "    v_hat_w, v_hat_b = v_w / (1.0 - beta2**step), v_b / (1.0 - beta2**step)\n"
        "    w = w - alpha * m_hat_w / (v_hat_w**0.5 + eps)\n"
        "    b = b - alpha * m_hat_b / (v_hat_b**0.5 + eps)\n",
    ),
}


def scratch_script(
    data: SyntheticSpec | str,
    spec: RunSpec,
    *,
    standardized: bool = False,
    test_fraction: float = 0.0,
    split_seed: int = 0,
) -> str:
    """The program's text for `data` (a SyntheticSpec, or the name of a bundled data set: "diabetes") and
    `spec` (any optimizer, full batch or mini-batch, with or without `tol`), with gdcore's seeded split
    (`train_test_indices`: `test_fraction`, `split_seed`) and z-scores fitted on the training rows when
    `standardized`. ValueError for a data source a script cannot rebuild (an uploaded file).
    """
    if not isinstance(spec, RunSpec):
        raise ValueError(f"spec must be a gdcore.RunSpec; got {type(spec).__name__}")
    test_fraction = TEST_FRACTION.check("test_fraction", test_fraction)
    split_seed = check("seed", split_seed)
    parts = [
        _header(data, spec),
        "import numpy as np",
        _load(data),
        _split(test_fraction, split_seed),
        _standardize(test_fraction > 0) if standardized else "",
        _settings(spec),
        _functions(),
        _loop(spec),
        _report(test_fraction > 0),
    ]
    return "\n".join(part for part in parts if part)


def _header(data: SyntheticSpec | str, spec: RunSpec) -> str:
    batches = "the full batch" if spec.batch_size is None else f"mini-batches of {spec.batch_size} rows"
    source = "make_regression" if isinstance(data, SyntheticSpec) else f"the {data} data set"
    return (
        '"""Gradient descent from scratch: the blog\'s loop, fixed.\n\n'
        f"Data: {source}. Update: {OPTIMIZERS[spec.optimizer].display_name}, {batches}.\n"
        "Needs numpy and scikit-learn only. It prints the same best-epoch line as Gradient Descent Lab\n"
        "(the lab computes the same numbers another way; on a run that has converged to rounding the loss\n"
        "is flat to ~1e-12, so the best epoch may then differ by a few epochs while the numbers agree).\n"
        '"""\n'
    )


def _load(data: SyntheticSpec | str) -> str:
    if isinstance(data, SyntheticSpec):
        return (
            "from sklearn.datasets import make_regression\n\n"
            "# The data: X (N, d) and y (N,). y stays flat, so y - prediction is (N,), never (N, N).\n"
            f"X, y = make_regression(n_samples={data.n_samples!r}, n_features={data.n_features!r}, "
            f"noise={float(data.noise)!r}, bias={float(data.intercept)!r}, random_state={data.seed!r})\n"
        )
    if data == "diabetes":
        return (
            "from sklearn.datasets import load_diabetes\n\n"
            "# The data: 442 patients, 10 features in their original units; y = disease progression.\n"
            "X, y = load_diabetes(return_X_y=True, scaled=False)\n"
        )
    raise ValueError(
        "a from-scratch script can rebuild the synthetic data or a bundled data set "
        f"({', '.join(DATASET_NAMES)}), not an uploaded file; got {data!r}"
    )


def _split(test_fraction: float, seed: int) -> str:
    if not test_fraction:
        return ""
    return (
        "# Hold out test rows: ceil(fraction * N) rows of a seeded permutation (gdcore's split).\n"
        f"n_test = int(np.ceil({test_fraction!r} * len(y) - 1e-9))\n"
        f"order = np.random.default_rng({seed!r}).permutation(len(y))\n"
        "train, test = np.sort(order[n_test:]), np.sort(order[:n_test])\n"
        "X, X_test, y, y_test = X[train], X[test], y[train], y[test]\n"
    )


def _standardize(with_test: bool) -> str:
    return (
        "# Standardize with the training rows' statistics: z = (x - mean) / std (a constant column keeps 1).\n"
        "mean, std = X.mean(axis=0), X.std(axis=0)\n"
        "std = np.where((X.min(axis=0) == X.max(axis=0)) | (std == 0.0), 1.0, std)\n"
        "X = (X - mean) / std\n" + ("X_test = (X_test - mean) / std\n" if with_test else "")
    )


def _settings(spec: RunSpec) -> str:
    w0 = spec.w0 if isinstance(spec.w0, tuple) else float(spec.w0)
    start = f"np.array({list(w0)!r})" if isinstance(w0, tuple) else f"np.full(X.shape[1], {w0!r})"
    lines = [
        "# The settings",
        f"alpha = {spec.alpha!r}  # learning rate",
        f"epochs = {spec.epochs!r}",
        f"w = {start}  # one weight per feature",
        f"b = {float(spec.b0)!r}",
        f"batch_size = {spec.batch_size!r}  # rows per update; None = the full batch",
        f"shuffle_seed = {spec.shuffle_seed!r}  # the order of the rows, reshuffled every epoch",
        f"tol = {spec.tol!r}  # stop when the loss changes by less than this fraction (None: never)",
    ]
    lines += [f"{name} = {value!r}" for name, value in spec.hyper]
    schedule = spec.schedule
    if not schedule.is_constant:
        lines += [
            f"# learning-rate schedule: {schedule.name} ({schedule.kind.source}), stepped once per epoch",
            "alpha_0 = alpha",
            *(f"{name} = {value!r}" for name, value in schedule.params),
            "\n\ndef alpha_at(epoch):",
            '    """The step of every update in epoch `epoch` (0, 1, ...)."""',
            f"    return {SCHEDULE_STEPS[schedule.name]}",
        ]
    return "\n".join(lines) + "\n"


def _functions() -> str:
    return (
        "\ndef loss(w, b):\n"
        '    """J(w, b) = mean((y - (X w + b))^2) over the training rows."""\n'
        "    residual = y - (X @ w + b)\n"
        "    return residual @ residual / len(y)\n"
        "\n\n"
        "def gradients(X_batch, y_batch, w, b):\n"
        '    """dJ/dw = -(2/n) X^T (y - y_hat),  dJ/db = -(2/n) sum(y - y_hat) on a batch of n rows."""\n'
        "    residual = y_batch - (X_batch @ w + b)\n"
        "    n = len(y_batch)\n"
        "    return (-2.0 / n) * (X_batch.T @ residual), (-2.0 / n) * residual.sum()\n"
    )


def _loop(spec: RunSpec) -> str:
    init, update = UPDATES[spec.optimizer]
    update = "".join(" " * 12 + line.removeprefix("    ") + "\n" for line in update.splitlines())
    return (
        "\n"
        + init
        + "\n# Each loss is recorded with the parameters it was measured at: state 0 is the start.\n"
        "losses, weights, biases = [loss(w, b)], [w.copy()], [b]\n"
        "rng = np.random.default_rng(shuffle_seed)\n"
        "full_batch = batch_size is None or batch_size >= len(y)\n"
        "size = len(y) if full_batch else batch_size\n"
        "with np.errstate(over='ignore', invalid='ignore', divide='ignore'):  # a diverging run is data\n"
        "    for epoch in range(epochs):\n"
        + (
            ""
            if spec.schedule.is_constant
            else "        alpha = alpha_at(epoch)  # the schedule's step this epoch\n"
        )
        + "        order = None if full_batch else rng.permutation(len(y))  # a fresh order every epoch\n"
        "        for start in range(0, len(y), size):\n"
        "            if full_batch:\n"
        "                dw, db = gradients(X, y, w, b)\n"
        "            else:\n"
        "                rows = order[start : start + size]\n"
        "                dw, db = gradients(X[rows], y[rows], w, b)\n"
        + update
        + "        current = loss(w, b)\n"
        "        if not (np.isfinite(current) and np.isfinite(w).all() and np.isfinite(b)):\n"
        "            print(f'Diverged: the numbers overflowed in epoch {epoch + 1}')\n"
        "            break\n"
        "        previous = losses[-1]\n"
        "        losses.append(current)\n"
        "        weights.append(w.copy())\n"
        "        biases.append(b)\n"
        "        if tol is not None and (previous == 0.0 or abs(previous - current) / previous < tol):\n"
        "            print(f'The error stabilized after epoch {epoch + 1}')\n"
        "            break\n"
    )


def _report(with_test: bool) -> str:
    text = (
        "\nbest = int(np.argmin(losses))  # the first epoch with the smallest loss\n"
        "best_w = weights[best]\n"
        "shown_w = f'{best_w[0]:.3f}' if len(best_w) == 1 else '[' + ', '.join(f'{v:.3f}' for v in best_w) + ']'\n"
        "print(f'Best epoch: {best}, Error: {losses[best]:.3f}, Weights: {shown_w}, Bias: {biases[best]:.3f}')\n"
    )
    if with_test:
        text += (
            "test_residual = y_test - (X_test @ best_w + biases[best])\n"
            "print(f'Test MSE at the best epoch: {test_residual @ test_residual / len(y_test):.3f}')\n"
        )
    return text
