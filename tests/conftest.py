"""Shared small data sets for fastgd's tests (kept tiny: every test must stay fast)."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.preprocessing import StandardScaler


def _sparsify(X, rng, density=0.6):
    """Zero out entries at random so that a CSR copy is genuinely sparse."""
    X = X.copy()
    X[rng.rand(*X.shape) > density] = 0.0
    return X


@pytest.fixture(scope="session")
def clf_data():
    """{n_classes: (X, y)}: standardised, partly-zero features, 48 samples, 6 features."""
    out = {}
    for n_classes in (2, 3):
        X, y = make_classification(n_samples=48, n_features=6, n_informative=4,
                                   n_redundant=0, n_classes=n_classes, class_sep=1.5,
                                   random_state=n_classes)
        X = _sparsify(StandardScaler().fit_transform(X), np.random.RandomState(1))
        out[n_classes] = (X, y)
    return out


@pytest.fixture(scope="session")
def reg_data():
    """(X, y): standardised, partly-zero features, 48 samples, 6 features, scaled y."""
    X, y = make_regression(n_samples=48, n_features=6, n_informative=4, noise=0.5,
                           random_state=0)
    X = _sparsify(StandardScaler().fit_transform(X), np.random.RandomState(2))
    return X, y / np.std(y)


def as_input(X, kind):
    """``kind`` in {'dense', 'csr', 'dense32', 'csr32'}."""
    dtype = np.float32 if kind.endswith("32") else np.float64
    X = np.asarray(X, dtype=dtype)
    return sp.csr_matrix(X) if kind.startswith("csr") else X


@pytest.fixture(scope="session")
def to_input():
    """The ``as_input`` helper (test modules cannot import conftest under importlib mode)."""
    return as_input
