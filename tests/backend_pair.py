"""The two-backend comparison of the estimator tests (test_backends*.py): fit once with
Numba and once with Cython, then require the same model to round-off."""

import warnings

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

RTOL = 1e-12
ATOL = 1e-14


def fit_both(make, X, y, **fit_kw):
    """Fit ``make(backend)`` with each backend; return the two fitted estimators, or the
    two divergence errors (a runaway fit, refused alike by both)."""
    out = []
    for backend in ("numba", "cython"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                out.append(make(backend).fit(X, y, **fit_kw))
            except ValueError as exc:
                if "diverged" not in str(exc):
                    raise
                out.append(exc)
    return out


def assert_same(a, b):
    """Same coef_, intercept_, n_iter_, t_ and objective curves (or the same error)."""
    if isinstance(a, ValueError) or isinstance(b, ValueError):
        # the message carries the objective reached: equal messages, equal arithmetic
        assert str(a) == str(b)
        return
    assert_allclose(b.coef_, a.coef_, rtol=RTOL, atol=ATOL)
    assert_allclose(b.intercept_, a.intercept_, rtol=RTOL, atol=ATOL)
    assert_array_equal(np.asarray(b.n_iter_), np.asarray(a.n_iter_))
    assert b.t_ == a.t_
    if hasattr(a, "loss_curve_"):  # one curve, or one per one-vs-rest problem
        curves_a, curves_b = a.loss_curve_, b.loss_curve_
        if len(curves_a) and np.ndim(curves_a[0]) == 0:
            curves_a, curves_b = [curves_a], [curves_b]
        assert len(curves_a) == len(curves_b)
        for ca, cb in zip(curves_a, curves_b):
            assert len(ca) == len(cb)
            assert_allclose(np.asarray(cb, dtype=float), np.asarray(ca, dtype=float),
                            rtol=RTOL, atol=ATOL)
