"""Optimizer benchmark (issues 4 and 9): mini-batch epochs, memory, full-batch momentum/Adam, sweeps.

    python benchmarks/bench_optimizers.py            # full sizes (a minute or so)
    python benchmarks/bench_optimizers.py --quick    # tiny sizes, proves the script runs (CI)

Prints, measured in one run (medians of several repeats, each baseline timed in turn with the code
measured against it, so both see the same machine load):
  1. one mini-batch epoch (batch 32, N=100,000) of `descend` per optimizer, at d=1 and at d=10, as a
     ratio to one epoch of scikit-learn's `SGDRegressor(max_iter=1, tol=None)` on the same data.
     Target <= 1.0. Our epoch is a 10-epoch `descend` call divided by 10, so validation and the passes
     for the statistics are in.
  2. memory of a mini-batch run (N=1,000,000, d=10, batch 32, 1 epoch): the peak of what tracemalloc
     sees allocated during `descend`, as a ratio to the data's size (X and y). A copy of the data, such
     as [X, 1], would be >= 1.0 by itself. Target <= 0.5.
  3. full-batch momentum and Adam, N=1,000,000, d=1, 10,000 epochs, as a ratio to one pass computing
     A = [X, 1], A^T A and A^T y (as in bench_engine.py). Target <= 10.
  4. the 50-value learning-rate sweep of plain GD on the default data (make_data(), 100 epochs), as a
     ratio to a single `descend` run. Target <= 5.
  5. the sweep tab's work at N=1,000,000, d=10: a 60-alpha sweep of plain GD (100 epochs, the default
     start) plus the measured contraction of 60 runs from the origin, as the dashboard computes them on
     its prepared data (statistics already computed), as a ratio to one A^T A pass. Target <= 5.
Each target prints PASS or FAIL (n/a with --quick); the script always exits 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import gdcore
from gdcore.stepping import execute
from gdcore.validation import as_regression_arrays

FULL = {
    "n_minibatch": 100_000,
    "n_memory": 1_000_000,
    "n_large": 1_000_000,
    "epochs_large": 10_000,
    "sweep_alphas": 50,
    "n_sweep_tab": 1_000_000,
}
QUICK = {
    "n_minibatch": 2_000,
    "n_memory": 20_000,
    "n_large": 5_000,
    "epochs_large": 200,
    "sweep_alphas": 50,
    "n_sweep_tab": 20_000,
}
MINIBATCH_EPOCHS, BATCH_SIZE = 10, 32
MINIBATCH_FEATURES = (1, 10)
TARGET_MINIBATCH, TARGET_MEMORY, TARGET_FULL_BATCH, TARGET_SWEEP, TARGET_SWEEP_TAB = 1.0, 0.5, 10.0, 5.0, 5.0
NAMES_MINIBATCH = ("gd", "momentum", "adam")
NAMES_FULL_BATCH = ("momentum", "adam")
SWEEP_TAB_FEATURES, SWEEP_TAB_EPOCHS, SWEEP_TAB_ALPHAS = 10, 100, 60


def median_seconds(function: Callable[[], object], repeats: int) -> float:
    """Median wall time of `repeats` calls (after one warm-up call)."""
    return paired_medians([function], repeats)[0]


def paired_medians(functions: list[Callable[[], object]], repeats: int) -> list[float]:
    """Median wall time of each function, timed in turn within every repeat (after one warm-up round),
    so that a baseline and the code measured against it see the same machine load."""
    times: list[list[float]] = [[] for _ in functions]
    for round_ in range(repeats + 1):
        for function, record in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            if round_:
                record.append(time.perf_counter() - start)
    return [statistics.median(record) for record in times]


def one_pass(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The floor: build A = [X, 1] and its sufficient statistics A^T A, A^T y."""
    A = np.column_stack([X, np.ones(X.shape[0])])
    return A.T @ A, A.T @ y


def sklearn_epoch(X: np.ndarray, y: np.ndarray) -> None:
    """One epoch of scikit-learn's SGD (batch size 1, shuffled)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        SGDRegressor(max_iter=1, tol=None, random_state=0).fit(X, y)


def blas_threads() -> str:
    """The BLAS library and its thread count, as threadpoolctl (a scikit-learn dependency) sees them."""
    from threadpoolctl import threadpool_info

    pools = [f"{pool['internal_api']} x{pool['num_threads']}" for pool in threadpool_info()]
    return ", ".join(pools) or "unknown"


def verdict(ok: bool, meaningful: bool = True) -> str:
    if not meaningful:
        return "n/a (--quick)"
    return "PASS" if ok else "FAIL"


def report(label: str, seconds: float, baseline: float, target: float, meaningful: bool) -> None:
    ratio = seconds / baseline
    print(
        f"   {label:<22}{seconds * 1e3:9.2f} ms   ratio {ratio:6.2f}  (target <= {target:g})  "
        f"{verdict(ratio <= target, meaningful)}"
    )


def bench_minibatch(n: int, d: int, seed: int, repeats: int, meaningful: bool) -> None:
    data = gdcore.make_data(n_samples=n, n_features=d, noise=20.0, seed=seed)
    X, y = data.X, data.y
    print(
        f"\n1. one mini-batch epoch, batch {BATCH_SIZE}, N={n:,}, d={d}, "
        "vs SGDRegressor(max_iter=1, tol=None)"
    )
    runs = [
        lambda name=name: gdcore.descend(
            X, y, optimizer=name, alpha=1e-3, epochs=MINIBATCH_EPOCHS, batch_size=BATCH_SIZE
        )
        for name in NAMES_MINIBATCH
    ]
    baseline, *seconds = paired_medians([lambda: sklearn_epoch(X, y), *runs], repeats)
    print(f"   {'SGDRegressor epoch':<22}{baseline * 1e3:9.2f} ms")
    for name, total in zip(NAMES_MINIBATCH, seconds, strict=True):
        report(f"{name} epoch", total / MINIBATCH_EPOCHS, baseline, TARGET_MINIBATCH, meaningful)


def bench_memory(n: int, seed: int, meaningful: bool) -> None:
    """Peak allocation during a mini-batch run, against the data's size (numpy reports to tracemalloc)."""
    data = gdcore.make_data(n_samples=n, n_features=SWEEP_TAB_FEATURES, noise=20.0, seed=seed)
    X, y = as_regression_arrays(data.X, data.y)
    size = X.nbytes + y.nbytes
    print(f"\n2. memory of a mini-batch run, batch {BATCH_SIZE}, N={n:,}, d={X.shape[1]}, 1 epoch")
    tracemalloc.start()
    try:
        gdcore.descend(X, y, epochs=1, batch_size=BATCH_SIZE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    ratio = peak / size
    print(
        f"   {'data (X, y)':<22}{size / 2**20:9.1f} MiB\n"
        f"   {'peak during descend':<22}{peak / 2**20:9.1f} MiB   ratio {ratio:6.2f}  "
        f"(target <= {TARGET_MEMORY:g}: no copy of the data)  {verdict(ratio <= TARGET_MEMORY, meaningful)}"
    )


def bench_full_batch(n: int, epochs: int, seed: int, repeats: int, meaningful: bool) -> None:
    data = gdcore.make_data(n_samples=n, n_features=1, noise=20.0, seed=seed)
    X, y = data.X, data.y
    print(f"\n3. full batch, N={n:,}, d=1, {epochs:,} epochs, vs one pass A=[X,1]; A^T A; A^T y")
    runs = [
        lambda name=name: gdcore.descend(X, y, optimizer=name, alpha=0.01, epochs=epochs)
        for name in NAMES_FULL_BATCH
    ]
    baseline, *seconds = paired_medians([lambda: one_pass(X, y), *runs], repeats)
    print(f"   {'one pass':<22}{baseline * 1e3:9.2f} ms")
    for name, total in zip(NAMES_FULL_BATCH, seconds, strict=True):
        report(name, total, baseline, TARGET_FULL_BATCH, meaningful)


def bench_sweep(n_alphas: int, repeats: int, meaningful: bool) -> None:
    data = gdcore.make_data()
    alphas = gdcore.alpha_grid(gdcore.analyze(data.X, data.y), n=n_alphas)
    print(f"\n4. {n_alphas}-value alpha sweep of plain GD, default data (N=100, 100 epochs), vs one descend")
    single, seconds = paired_medians(
        [lambda: gdcore.descend(data.X, data.y, alpha=0.1), lambda: gdcore.sweep(data.X, data.y, alphas)],
        5 * repeats,
    )
    print(f"   {'one descend':<22}{single * 1e3:9.2f} ms")
    report("sweep", seconds, single, TARGET_SWEEP, meaningful)


def sweep_tab_work(X, y, quadratic: gdcore.Quadratic, alphas: np.ndarray) -> None:
    """What the sweep tab computes on the dashboard's prepared data: a GD sweep of the plan's spec
    (default start) and the contraction of runs from the origin (as
    `gdcore.dashboard.experiment.contraction_by_alpha` does)."""
    gdcore.sweep(X, y, alphas, gdcore.RunSpec(epochs=SWEEP_TAB_EPOCHS), quadratic=quadratic)
    from_origin = gdcore.RunSpec(epochs=SWEEP_TAB_EPOCHS, w0=0.0, b0=0.0)
    for alpha in alphas:
        run = execute(X, y, from_origin.with_alpha(float(alpha)), quadratic)
        gdcore.measured_contraction(run, quadratic)


def bench_sweep_tab(n: int, seed: int, repeats: int, meaningful: bool) -> None:
    data = gdcore.make_data(n_samples=n, n_features=SWEEP_TAB_FEATURES, noise=20.0, seed=seed)
    X, y = as_regression_arrays(data.X, data.y)
    quadratic = gdcore.Quadratic.from_checked(X, y)
    alphas = gdcore.alpha_grid(gdcore.analyze_quadratic(quadratic), n=SWEEP_TAB_ALPHAS)
    print(
        f"\n5. sweep tab: {SWEEP_TAB_ALPHAS}-alpha GD sweep + contraction of "
        f"{SWEEP_TAB_ALPHAS} runs, N={n:,}, d={SWEEP_TAB_FEATURES}, {SWEEP_TAB_EPOCHS} epochs, "
        "vs one A^T A pass"
    )
    A = np.column_stack([X, np.ones(X.shape[0])])
    baseline, seconds = paired_medians(
        [lambda: A.T @ A, lambda: sweep_tab_work(X, y, quadratic, alphas)], repeats
    )
    print(f"   {'one A^T A pass':<22}{baseline * 1e3:9.2f} ms")
    report("sweep + contraction", seconds, baseline, TARGET_SWEEP_TAB, meaningful)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: only proves the script runs")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per measurement (median)")
    parser.add_argument("--seed", type=int, default=42, help="make_data seed")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeats = max(1, min(args.repeats, 2) if args.quick else args.repeats)
    meaningful = not args.quick
    quick_note = " (--quick: sizes too small for the targets to mean anything)" if args.quick else ""
    print(f"gdcore optimizer benchmark{quick_note}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}; median of {repeats} repeats"
    )
    print(
        f"BLAS threads: {blas_threads()} (on a busy machine, OPENBLAS_NUM_THREADS=1 gives steadier figures)"
    )
    for d in MINIBATCH_FEATURES:
        bench_minibatch(sizes["n_minibatch"], d, args.seed, repeats, meaningful)
    bench_memory(sizes["n_memory"], args.seed, meaningful)
    bench_full_batch(sizes["n_large"], sizes["epochs_large"], args.seed, repeats, meaningful)
    bench_sweep(sizes["sweep_alphas"], repeats, meaningful)
    bench_sweep_tab(sizes["n_sweep_tab"], args.seed, repeats, meaningful)
    return 0


if __name__ == "__main__":
    sys.exit(main())
