"""Shared small data sets for fastgd's tests (kept tiny: every test must stay fast), and
the one loader of the real datasets in ../shared/data. The test helper modules beside
this file (``backend_pair``) import by name: this directory is put on ``sys.path``."""

import bz2
import io
import itertools
import lzma
import pathlib
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_file, make_classification, make_regression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(pathlib.Path(__file__).parent))


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


SHARED_DATA = pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "data"
# Byte-for-byte copies of the small sets, so that the tests reading them also run on a
# clean clone with no ../shared (CI): the package's bundled a9a and abalone, and
# mushrooms and housing_scale in tests/data (LIBSVM collection, see ../shared/data/README).
BUNDLED_DATA = [pathlib.Path(__file__).resolve().parent / "data",
                pathlib.Path(__file__).resolve().parent.parent / "fastgd" / "data"]
_SHARED_CACHE = {}


def shared_path(name):
    """The path of ``name`` in ../shared/data, else its bundled copy, else None."""
    for folder in [SHARED_DATA] + BUNDLED_DATA:
        if (folder / name).exists():
            return folder / name
    return None


def load_shared(name, max_rows=None):
    """(CSR float64 X, y) of ``name`` in ../shared/data or its bundled copy (its first
    ``max_rows`` lines when given), cached for the session; skips the calling test when
    the file is absent."""
    key = (name, max_rows)
    if key not in _SHARED_CACHE:
        path = shared_path(name)
        if path is None:
            pytest.skip(f"{SHARED_DATA / name} not available")
        opener = lzma.open if name.endswith(".xz") else bz2.open
        with opener(path, "rb") as f:
            if max_rows is not None:
                f = io.BytesIO(b"".join(itertools.islice(f, max_rows)))
            X, y = load_svmlight_file(f, dtype=np.float64)
        _SHARED_CACHE[key] = (X.tocsr(), y)
    return _SHARED_CACHE[key]


@pytest.fixture(scope="session")
def shared_data():
    """The ``load_shared`` helper."""
    return load_shared
