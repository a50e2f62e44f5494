"""Small real datasets bundled with fastgd (LIBSVM collection, Chang & Lin 2011).

- ``a9a`` / ``a9a.t``: UCI Adult as binary sparse features, 32,561 / 16,281 rows x 123
  columns, labels +-1 (Platt 1998; LIBSVM binary collection).
- ``abalone``: UCI Abalone, 4,177 x 8, scaled, target = rings (LIBSVM regression).
"""

import bz2
import lzma
from importlib import resources

import numpy as np
from sklearn.datasets import load_svmlight_file

_FILES = {"a9a": "a9a.xz", "a9a.t": "a9a.t.xz", "abalone": "abalone.trn.bz2"}
_N_FEATURES = {"a9a": 123, "a9a.t": 123, "abalone": 8}


def load(name, dtype="float64"):
    """(X, y) of a bundled dataset: X is CSR, y a float array."""
    if name not in _FILES:
        raise ValueError(f"Unknown dataset {name!r}; bundled: {sorted(_FILES)}")
    path = resources.files("fastgd") / "data" / _FILES[name]
    opener = lzma.open if path.name.endswith(".xz") else bz2.open
    with resources.as_file(path) as p, opener(p, "rb") as f:
        X, y = load_svmlight_file(f, n_features=_N_FEATURES[name], dtype=dtype)
    X.indices = X.indices.astype(np.int32)  # scikit-learn's SGD accepts int32 only
    X.indptr = X.indptr.astype(np.int32)
    return X, y
