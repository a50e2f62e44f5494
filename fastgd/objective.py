"""The objective of SPEC section 1, one shared function for tests, benchmarks and the CLI.

    F(w, b) = (1/n) sum_i s_i L(y_i, x_i.w + b) + alpha ((1 - l1_ratio)/2 ||w||^2
              + l1_ratio ||w||_1)

(``y`` is +-1 for classification losses). Computed in float64 by the compiled kernels.
"""

import numpy as np

from fastgd._rules import LOSSES, loss_param


def objective(X, y, coef, intercept, loss, alpha, l1_ratio=0.0, sample_weight=None,
              epsilon=0.1, backend="auto"):
    """F(w, b) of SPEC section 1 for dense or CSR ``X``."""
    from fastgd._engine import Rows
    from fastgd._validation import check_sparse_structure

    check_sparse_structure(X)
    rows = Rows.of(X, backend)
    coef = np.ascontiguousarray(coef, dtype=np.float64)
    if coef.shape != (rows.n_features,):
        raise ValueError(f"coef has shape {coef.shape}; X has {rows.n_features} features.")
    p = rows.decision(coef, float(intercept))
    y = np.asarray(y, dtype=np.float64)
    sw = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, np.float64)
    data_term = rows.kern.weighted_loss_sum(y, p, sw, int(LOSSES[loss].id),
                                            loss_param(loss, epsilon)) / y.shape[0]
    penalty = alpha * ((1 - l1_ratio) * 0.5 * float(coef @ coef)
                       + l1_ratio * float(np.abs(coef).sum()))
    return data_term + penalty
