"""Engine benchmark for issue 2: how fast `gdcore.descend` is, measured against the floor and the literal loop.

    python benchmarks/bench_engine.py            # full sizes (N = 1,000,000; a few seconds)
    python benchmarks/bench_engine.py --quick    # tiny sizes, proves the script runs (CI)

Prints, on one data set generated once:
  1. descend at N=1,000,000, d=1, 10,000 epochs, as a ratio to one pass computing A = [X, 1], A^T A and
     A^T y (the physical floor: reading the data once). Target <= 3. Medians of several repeats.
  1b. the same run with a learning-rate schedule (cosine annealing over the run, stepped once per epoch),
     which leaves the closed form for the O(d^2)-per-epoch loop: ratio to one pass, target <= 10 (issue 14).
  2. descend against `gdcore.reference_descend` (the blog's per-epoch loop, shapes fixed) at N=100,000,
     1,000 epochs: the speed-up (target >= 100x) and the largest relative difference (target <= 1e-9).
  3. tracemalloc's peak during a descend call at N=1,000,000, 10,000 epochs, against N * epochs * 8 bytes:
     nothing of size N x epochs is held (target: peak below 1% of it).
Each target prints PASS or FAIL (with --quick the size-dependent ones print n/a: tiny sizes say nothing
about them); the script always exits 0 (timings are reported, never asserted).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import gdcore

FULL = {"n_large": 1_000_000, "epochs_large": 10_000, "n_loop": 100_000, "epochs_loop": 1_000}
QUICK = {"n_large": 5_000, "epochs_large": 200, "n_loop": 2_000, "epochs_loop": 50}
TARGET_RATIO, TARGET_SPEEDUP, TARGET_DIFFERENCE, TARGET_MEMORY_SHARE = 3.0, 100.0, 1e-9, 0.01
TARGET_SCHEDULED_RATIO = 10.0  # issue 14: a scheduled full-batch run, 1e4 epochs at N = 1e6


def seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def interleaved_medians(
    baseline: Callable[[], object], measured: Callable[[], object], repeats: int, inner: int = 1
) -> tuple[float, float, float]:
    """Median times of `baseline` and `measured`, and the median of their per-repeat ratio. The two are
    timed alternately after one warm-up call each, so that a busy machine slows both alike; within a
    repeat, `baseline` takes the median of `inner` calls (for a call too short to time once)."""
    baseline()
    measured()
    pairs = []
    for _ in range(repeats):
        pairs.append((statistics.median(seconds(baseline) for _ in range(inner)), seconds(measured)))
    return (
        statistics.median(b for b, _ in pairs),
        statistics.median(m for _, m in pairs),
        statistics.median(m / b for b, m in pairs),
    )


def one_pass(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The floor: build A = [X, 1] and its sufficient statistics A^T A, A^T y."""
    A = np.column_stack([X, np.ones(X.shape[0])])
    return A.T @ A, A.T @ y


def max_relative_difference(fast: gdcore.Trajectory, reference: gdcore.Trajectory) -> float:
    """Largest |fast - reference| / |reference| over losses and parameters, with a floor of the run's
    largest parameter magnitude for parameters (a weight near zero is compared on the run's scale)."""
    if fast.loss.shape != reference.loss.shape:
        return float("inf")
    loss = np.max(np.abs(fast.loss - reference.loss) / np.abs(reference.loss))
    theta_fast = np.column_stack([fast.weights, fast.bias])
    theta_ref = np.column_stack([reference.weights, reference.bias])
    scale = max(1.0, float(np.max(np.abs(theta_ref))))
    params = np.max(np.abs(theta_fast - theta_ref) / np.maximum(np.abs(theta_ref), scale))
    return float(max(loss, params))


def verdict(ok: bool, meaningful: bool = True) -> str:
    if not meaningful:
        return "n/a (--quick)"
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: only proves the script runs")
    parser.add_argument("--repeats", type=int, default=9, help="timed repeats per measurement (median)")
    parser.add_argument("--seed", type=int, default=42, help="make_data seed")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeats = max(1, args.repeats if not args.quick else min(args.repeats, 2))
    n_large, epochs_large = sizes["n_large"], sizes["epochs_large"]
    n_loop, epochs_loop = sizes["n_loop"], sizes["epochs_loop"]

    print(
        f"gdcore engine benchmark{' (--quick: sizes too small for the targets to mean anything)' * args.quick}"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}; medians of {repeats} interleaved repeats"
    )
    data = gdcore.make_data(n_samples=n_large, n_features=1, noise=20.0, seed=args.seed)
    X, y = data.X, data.y
    print(f"data: make_data(n_samples={n_large:,}, n_features=1, noise=20, seed={args.seed}), generated once")

    # 1. descend vs one pass over the data
    t_pass, t_descend, ratio = interleaved_medians(
        lambda: one_pass(X, y), lambda: gdcore.descend(X, y, epochs=epochs_large), repeats
    )
    print(f"\n1. descend, N={n_large:,}, d=1, {epochs_large:,} epochs, vs one pass A=[X,1]; A^T A; A^T y")
    print(f"   one pass: {t_pass * 1e3:9.2f} ms")
    print(f"   descend:  {t_descend * 1e3:9.2f} ms")
    ok = verdict(ratio <= TARGET_RATIO, not args.quick)
    print(f"   ratio:    {ratio:9.2f}   (median of per-repeat ratios; target <= {TARGET_RATIO:g})  {ok}")

    # 1b. the same with a schedule: the per-epoch loop instead of the closed form
    def scheduled():
        return gdcore.descend(X, y, epochs=epochs_large, schedule="cosine", T_max=epochs_large)

    t_pass_b, t_scheduled, ratio_b = interleaved_medians(lambda: one_pass(X, y), scheduled, repeats)
    print(f"\n1b. descend with schedule='cosine' (T_max={epochs_large:,}), same data and epochs, vs one pass")
    print(f"   one pass: {t_pass_b * 1e3:9.2f} ms")
    print(
        f"   descend:  {t_scheduled * 1e3:9.2f} ms  ({t_scheduled / t_descend:.2f}x the constant-alpha run)"
    )
    ok = verdict(ratio_b <= TARGET_SCHEDULED_RATIO, not args.quick)
    print(
        f"   ratio:    {ratio_b:9.2f}   (median of per-repeat ratios; target <= {TARGET_SCHEDULED_RATIO:g})  {ok}"
    )

    # 2. descend vs the literal per-epoch loop, on the first n_loop rows of the same data
    X_loop, y_loop = X[:n_loop], y[:n_loop]
    loop_repeats = min(repeats, 3)
    t_fast, t_loop, speedup = interleaved_medians(
        lambda: gdcore.descend(X_loop, y_loop, epochs=epochs_loop),
        lambda: gdcore.reference_descend(X_loop, y_loop, epochs=epochs_loop),
        loop_repeats,
        inner=9,
    )
    fast = gdcore.descend(X_loop, y_loop, epochs=epochs_loop)
    reference = gdcore.reference_descend(X_loop, y_loop, epochs=epochs_loop)
    difference = max_relative_difference(fast, reference)
    print(f"\n2. descend vs reference_descend (the blog's loop), N={n_loop:,}, {epochs_loop:,} epochs")
    print(f"   reference loop: {t_loop * 1e3:9.2f} ms  (median of {loop_repeats})")
    print(f"   descend:        {t_fast * 1e3:9.2f} ms  (median of {loop_repeats} x 9)")
    ok = verdict(speedup >= TARGET_SPEEDUP, not args.quick)
    print(
        f"   speed-up:       {speedup:9.1f}x  (median of per-repeat ratios; target >= {TARGET_SPEEDUP:g}x)  {ok}"
    )
    print(
        f"   max relative difference (loss and parameters): {difference:.2e}  "
        f"(target <= {TARGET_DIFFERENCE:g})  {verdict(difference <= TARGET_DIFFERENCE)}"
    )

    # 3. peak memory of one descend call (the inputs already exist; the output is part of the peak)
    tracemalloc.start()
    run = gdcore.descend(X, y, epochs=epochs_large)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n_by_epochs = n_large * epochs_large * 8
    share = peak / n_by_epochs
    print(f"\n3. peak memory of descend, N={n_large:,}, {epochs_large:,} epochs (tracemalloc)")
    print(
        f"   peak:             {peak / 2**20:10.1f} MiB  (= {peak / (8 * n_large):.1f} float64 vectors of length N)"
    )
    print(f"   N x epochs x 8 B: {n_by_epochs / 2**20:10.1f} MiB")
    print(
        f"   trajectory kept:  {(run.loss.nbytes + run.weights.nbytes + run.bias.nbytes) / 2**20:10.2f} MiB"
    )
    print(
        f"   share: {share:.2e}  (target < {TARGET_MEMORY_SHARE:g}: nothing of size N x epochs)  "
        f"{verdict(share < TARGET_MEMORY_SHARE, not args.quick)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
