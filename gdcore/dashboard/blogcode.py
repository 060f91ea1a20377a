"""The blog's code, run as published (both bugs kept), beside the page's fixed runs: the data and the words of
the overlay on the loss and parameter charts. No Streamlit here."""

from __future__ import annotations

from gdcore.dashboard.experiment import Prepared
from gdcore.reference import BLOG_CODE_NAME, blog_code_run, blog_printout
from gdcore.spec import RunSpec
from gdcore.trajectory import Trajectory


def blog_overlay(prepared: Prepared, spec: RunSpec) -> tuple[Trajectory | None, str]:
    """The blog's loop on the training data with `spec`'s alpha, epochs and start, and one sentence for
    under the charts that says what it is (or why it is not drawn: more than one feature, or its numbers
    overflow in the first epoch). The run is in the blog's pairing: see `gdcore.blog_code_run`."""
    train = prepared.train
    if train.n_features != 1:
        return None, (
            f"The blog's code runs on one feature only (its weight is a single number); this data has "
            f"{train.n_features}, so **{BLOG_CODE_NAME}** is not drawn."
        )
    try:
        run = blog_code_run(train.X, train.y, alpha=spec.alpha, epochs=spec.epochs, w0=spec.w0, b0=spec.b0)
    except ValueError as exc:
        return None, f"**{BLOG_CODE_NAME}** is not drawn: {exc}."
    n = train.n_samples
    return run, (
        f"**{BLOG_CODE_NAME}**: the blog's loop exactly as published, on this data at α = {spec.alpha:g}. "
        f"It prints `{blog_printout(run)}`. Its “error” adds up all the squares of a {n:,}×{n:,} matrix "
        "(the (N,) − (N, 1) broadcast) and divides by N: not the MSE. Each of its parameters is drawn where "
        "the blog lists it, one update after the error beside it. See the shape pitfall in 🧮 Math & theory."
    )


def pitfall_pointer(shown: bool) -> str:
    """The shape-pitfall panel's pointer to the overlay (on the charts, or how to put it there)."""
    if shown:
        return (
            f"The loss and parameter charts show this loop run as published: the line **{BLOG_CODE_NAME}**."
        )
    return (
        f"Turn on **Show the blog's code (buggy)** in the sidebar to draw this loop, run as published, "
        f"on the loss and parameter charts (**{BLOG_CODE_NAME}**)."
    )
