"""`python -m gdcore`: run the blog's experiment (or any variant) from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gdcore.data import CURVE_SHAPES, CurveSpec, SyntheticSpec
from gdcore.export import trajectory_csv
from gdcore.features import polynomial_features, polynomial_names
from gdcore.model import Quadratic
from gdcore.reference import blog_code_run, blog_printout
from gdcore.schedules import SCHEDULES, Schedule
from gdcore.spec import RunSpec
from gdcore.stepping import execute
from gdcore.theory import analyze_quadratic, least_squares, ridge_fit
from gdcore.trajectory import format_weights
from gdcore.validation import as_regression_arrays, check


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line and exits 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m gdcore",
        description="Gradient descent on make_regression data; defaults are the blog's settings.",
    )
    parser.add_argument("--alpha", type=float, default=0.01, help="learning rate (> 0)")
    parser.add_argument("--epochs", type=int, default=100, help="epochs (0..1,000,000)")
    parser.add_argument("--samples", type=int, default=100, help="rows of data (2..2,000,000)")
    parser.add_argument("--features", type=int, default=1, help="features (1..50)")
    parser.add_argument("--noise", type=float, default=None, help="noise std (>= 0; 20, or 1 with --curve)")
    parser.add_argument("--seed", type=int, default=42, help="random_state (0..2**32-1)")
    parser.add_argument("--w0", type=float, default=1.0, help="start value of every weight")
    parser.add_argument("--b0", type=float, default=0.0, help="start value of the bias")
    parser.add_argument("--tol", type=float, default=None, help="stop when the loss stabilizes")
    parser.add_argument(
        "--curve", choices=CURVE_SHAPES, default=None, help="data that is not a line (one input x) instead"
    )
    parser.add_argument("--degree", type=int, default=1, help="fit a polynomial x, x^2, ..., x^d (1..12)")
    parser.add_argument(
        "--l2", type=float, default=0.0, help="ridge penalty lambda ||w||^2, bias not penalized (0..1e6)"
    )
    parser.add_argument(
        "--schedule",
        choices=list(SCHEDULES),
        default="constant",
        help="learning-rate schedule, stepped once per epoch (torch.optim.lr_scheduler's formulas)",
    )
    for flag, dest, text in _schedule_flags():
        parser.add_argument(flag, dest=dest, type=float, default=None, help=text)
    parser.add_argument("--csv", type=Path, default=None, help="write the trajectory to this CSV")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.add_argument(
        "--blog-bug",
        action="store_true",
        help="run the blog's code as published (its shape bug and pairing bug kept) and print its line",
    )
    return parser


def _schedule_flags() -> list[tuple[str, str, str]]:
    """(flag, dest, help) of every schedule parameter, once each: --step-size, --gamma, --T-max, ..."""
    flags = {}
    for kind in SCHEDULES.values():
        for p in kind.parameters:
            flags.setdefault(p.name, []).append(f"{kind.name}: {p.help}, default {p.default:g}")
    return [(f"--{name.replace('_', '-')}", name, "; ".join(texts)) for name, texts in flags.items()]


def schedule_from_args(args: argparse.Namespace) -> Schedule:
    """The --schedule and the parameter flags given with it (ValueError for one it does not take)."""
    given = {dest: getattr(args, dest) for _, dest, _ in _schedule_flags() if getattr(args, dest) is not None}
    return Schedule(args.schedule, tuple(given.items()))


def specs_from_args(args: argparse.Namespace) -> tuple[SyntheticSpec | CurveSpec, RunSpec]:
    """The data and the run the flags describe (ValueError for a bad value)."""
    if args.curve is not None:
        if args.features != 1:
            raise ValueError(f"--curve data has one input x; got --features {args.features}")
        noise = 1.0 if args.noise is None else args.noise
        data = CurveSpec(shape=args.curve, n_samples=args.samples, noise=noise, seed=args.seed)
    else:
        noise = 20.0 if args.noise is None else args.noise
        data = SyntheticSpec(n_samples=args.samples, n_features=args.features, noise=noise, seed=args.seed)
    spec = RunSpec(
        alpha=args.alpha,
        epochs=args.epochs,
        w0=args.w0,
        b0=args.b0,
        tol=args.tol,
        schedule=schedule_from_args(args),
    )
    return data, spec


def run(args: argparse.Namespace) -> dict:
    """The experiment the flags describe, as a plain dict of results."""
    data_spec, spec = specs_from_args(args)
    data = data_spec.make()
    X, y = as_regression_arrays(data.X, data.y)
    degree, l2 = check("degree", args.degree), check("l2", args.l2)
    names = data.feature_names
    if degree > 1:
        X, names = polynomial_features(X, degree), polynomial_names(names[0], degree)
    quadratic = Quadratic.from_checked(X, y, l2)
    trajectory = execute(X, y, spec, quadratic)
    fit = least_squares(X, y) if l2 == 0 else ridge_fit(quadratic)
    theory = analyze_quadratic(quadratic)
    return {"data": data, "trajectory": trajectory, "fit": fit, "theory": theory, "names": names}


def blog_bug(args: argparse.Namespace) -> str:
    """The blog's printout from its published loop on the data the flags describe (ValueError if bad)."""
    scheduled = args.schedule != "constant" or any(
        getattr(args, d) is not None for _, d, _ in _schedule_flags()
    )
    if (
        args.tol is not None
        or args.csv is not None
        or args.json
        or args.curve
        or args.degree != 1
        or args.l2
        or scheduled
    ):
        raise ValueError(
            "--blog-bug prints the blog's own line; it takes no --tol, --csv, --json, --curve, --degree, --l2 "
            "or --schedule"
        )
    data_spec, spec = specs_from_args(args)
    data = data_spec.make()
    run = blog_code_run(data.X, data.y, alpha=spec.alpha, epochs=spec.epochs, w0=spec.w0, b0=spec.b0)
    return blog_printout(run)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.blog_bug:
        try:
            line = blog_bug(args)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(line)
        print(
            "(the blog's code as published: y - y_pred broadcasts (N,) - (N, 1) to an N x N matrix, and "
            "each error is printed beside the weights after the next update; `python -m gdcore` runs it fixed)"
        )
        return 0
    try:
        result = run(args)
        if args.csv is not None:
            args.csv.write_text(trajectory_csv(result["trajectory"], result["names"]))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    trajectory, fit, theory = result["trajectory"], result["fit"], result["theory"]
    if args.json:
        print(
            json.dumps(
                {
                    "best_epoch": trajectory.best_epoch,
                    "error": trajectory.best_loss,
                    "weights": trajectory.best_weights.tolist(),
                    "bias": trajectory.best_bias,
                    "epochs_run": trajectory.epochs_run,
                    "stop_reason": trajectory.stop_reason,
                    "diverged": trajectory.diverged,
                    "features": list(result["names"]),
                    "l2": args.l2,
                    "schedule": {
                        "name": trajectory.spec.schedule.name,
                        **trajectory.spec.schedule.parameters,
                    },
                    "alphas": _alpha_summary(trajectory),
                    "optimum": {
                        "weights": fit.weights.tolist(),
                        "bias": fit.bias,
                        "error": fit.loss,
                    },
                    "alpha_max": theory.alpha_max,
                    "alpha_opt": theory.alpha_opt,
                }
            )
        )
        return 0
    print(trajectory.summary_line())
    label = "Least squares" if args.l2 == 0 else f"Ridge optimum (l2={args.l2:g}, penalized loss)"
    print(f"{label}: Error: {fit.loss:.3f}, Weights: {format_weights(fit.weights)}, Bias: {fit.bias:.3f}")
    print(f"Stopped: {trajectory.stop_reason} after {trajectory.epochs_run} epochs")
    print(f"alpha_max: {theory.alpha_max:.3f} (alpha_opt: {theory.alpha_opt:.3f})")
    if not trajectory.spec.schedule.is_constant:
        steps = _alpha_summary(trajectory)
        print(
            f"Schedule: {trajectory.spec.schedule.describe()}, stepped once per epoch: alpha from "
            f"{steps['first']:.4g} (epoch 1) to {steps['last']:.4g} (epoch {trajectory.epochs_run}), "
            f"at most {steps['max']:.4g}; alpha_max and alpha_opt are for a constant step"
        )
    if args.csv is not None:
        print(f"Trajectory written to {args.csv}")
    return 0


def _alpha_summary(trajectory) -> dict[str, float | None]:
    """The steps the run used: the first and last epoch's alpha, their smallest and largest (None for a
    run of 0 epochs)."""
    alphas = trajectory.alphas
    if alphas.size == 0:
        return {"first": None, "last": None, "min": None, "max": None}
    return {
        "first": float(alphas[0]),
        "last": float(alphas[-1]),
        "min": float(alphas.min()),
        "max": float(alphas.max()),
    }
