"""The in-place array kernels of `gdcore.kernels` (the mini-batch speed path for d > 1) give exactly the
numbers of the registry's pure `update`, called once per step."""

from __future__ import annotations

import numpy as np
import pytest

import gdcore
from gdcore.kernels import KERNELS_ARRAY
from gdcore.stepping import Stepper

EXACT = ("gd", "momentum", "nesterov", "adagrad", "rmsprop")  # Adam's kernel is rearranged: equal to rounding


@pytest.mark.parametrize("name", list(gdcore.OPTIMIZERS))
@pytest.mark.parametrize("p", [3, 11])
@pytest.mark.parametrize("hyper", [{}, {"beta": 0.5, "rho": 0.5, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3}])
def test_array_kernel_equals_the_registry_update(name, p, hyper):
    """Bit for bit, except Adam's (its bias corrections folded into the step): to 1e-12 relative."""
    assert name in KERNELS_ARRAY
    entry = gdcore.OPTIMIZERS[name]
    values = entry.validate({k: v for k, v in hyper.items() if k in entry.defaults()})
    rng = np.random.default_rng(p)
    root = rng.normal(size=(300, p, p))
    H = root @ root.transpose(0, 2, 1) / p  # symmetric, positive semi-definite, like a batch's
    q = rng.normal(size=(300, p)) * 10
    start = rng.normal(size=p)
    kept = start.copy()
    fused = Stepper(entry, 0.05, values, start)
    generic = Stepper(entry, 0.05, values, start, fused=False)
    assert fused.kernel is KERNELS_ARRAY[name] and generic.kernel is None
    if name in EXACT:
        check = np.testing.assert_array_equal
    else:

        def check(a, b):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())

    for _ in range(2):  # twice: the carry passes state from one call to the next
        check(fused.run(fused.batches(H, q)), generic.run(generic.batches(H, q)))
    check(fused.carry[0], generic.carry[0])
    for mine, theirs in zip(fused.carry[1], generic.carry[1], strict=True):
        check(np.asarray(mine, dtype=float), np.asarray(theirs, dtype=float))
    np.testing.assert_array_equal(start, kept)  # the start was not updated in place


@pytest.mark.parametrize("name", list(gdcore.OPTIMIZERS))
def test_array_kernels_leave_the_callers_arrays_alone(name):
    entry = gdcore.OPTIMIZERS[name]
    stepper = Stepper(entry, 0.1, entry.defaults(), np.array([1.0, 2.0, 3.0]))
    theta, state = stepper.carry
    stepper.run(stepper.batches(np.eye(3)[None], np.ones((1, 3))))
    np.testing.assert_array_equal(theta, [1.0, 2.0, 3.0])
    assert all(not np.any(field) for field in state)
