"""Model files: ``save_model(est, path)`` and ``load_model(path)``, with nothing executable.

Format (``FORMAT_VERSION`` 1): one ``.npz`` archive (a zip of ``.npy`` files), read with
``np.load(allow_pickle=False)``:

- ``__meta__``: a 0-d unicode array holding JSON: ``format`` ("fastgd-model"),
  ``format_version``, ``estimator`` (a class name exported by ``fastgd``), ``params``
  (``get_params()``; a RandomState ``random_state`` is stored as null, a dict
  ``class_weight`` as ``[[class, weight], ...]``), ``attributes`` (fitted scalars and
  lists: ``n_iter_``, ``t_``, ``loss_curve_``, ...), ``arrays`` (the names below),
  ``versions`` (fastgd, numpy, scikit-learn that wrote it) and ``sha256``.
- one array per fitted array attribute (``coef_``, ``intercept_``, ``classes_``,
  ``_average_coef`` ...), numeric or unicode, never object (an object array of
  strings, as ``feature_names_in_``, is stored as unicode).

``sha256`` is the SHA-256 of the JSON without it and of every array's name, dtype,
shape and bytes: a truncated or modified file is refused with a ``ValueError``, as is
a ``format_version`` newer than this fastgd reads. The optimizer's internal state
(Adam's moments) is not saved: a loaded model predicts and scores as the saved one;
``partial_fit`` on it continues from ``coef_`` and ``t_`` with fresh optimizer state.
Pickling estimators works as well (scikit-learn's way); the command line never
unpickles.
"""

import hashlib
import json
import zipfile
from numbers import Integral, Real

import numpy as np

import fastgd
from fastgd import schedules

FORMAT = "fastgd-model"
FORMAT_VERSION = 1
_ESTIMATORS = ("SGDClassifier", "SGDRegressor", "LogisticRegression", "LinearRegression",
               "Ridge", "Lasso", "ElasticNet")
_PRIVATE_ARRAYS = ("_standard_coef", "_standard_intercept", "_average_coef",
                   "_average_intercept")


def _plain(value, name):
    """``value`` as JSON-ready Python (numpy scalars and arrays to lists)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, np.ndarray):
        return [_plain(v, name) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v, name) for v in value]
    raise TypeError(f"save_model: {name} is a {type(value).__name__}, which the model "
                    "format does not store")


def _digest(meta, arrays):
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _params(est):
    params = {}
    for key, value in est.get_params(deep=False).items():
        if key == "random_state" and isinstance(value, np.random.RandomState):
            value = None
        elif key == "class_weight" and isinstance(value, dict):
            value = [[_plain(k, key), _plain(v, key)] for k, v in value.items()]
        elif isinstance(value, schedules.LRSchedule):  # learning_rate=
            params[key] = schedules.as_dict(value)
            continue
        params[key] = _plain(value, f"parameter {key}")
    return params


def save_model(est, path):
    """Write the fitted fastgd estimator ``est`` to ``path`` (an ``.npz`` file; see the
    module docstring for the format)."""
    name = type(est).__name__
    if name not in _ESTIMATORS or not isinstance(est, getattr(fastgd, name)):
        raise TypeError(f"save_model stores fastgd's estimators {_ESTIMATORS}; got {name}")
    if not hasattr(est, "coef_"):
        raise ValueError(f"save_model: this {name} is not fitted yet")
    arrays, attributes = {}, {}
    for key, value in vars(est).items():
        public = key.endswith("_") and not key.startswith("_")
        if not (public or key in _PRIVATE_ARRAYS):
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind in "biufU":
            arrays[key] = value
        elif isinstance(value, np.ndarray) and all(isinstance(v, str)
                                                   for v in value.ravel()):
            arrays[key] = value.astype(str)  # object arrays of strings (feature names)
        else:
            attributes[key] = _plain(value, f"attribute {key}")
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "estimator": name,
            "params": _params(est), "attributes": attributes, "arrays": sorted(arrays),
            "versions": {"fastgd": fastgd.__version__, "numpy": np.__version__,
                         "scikit-learn": _sklearn_version()}}
    meta["sha256"] = _digest(meta, arrays)
    with open(path, "wb") as f:
        np.savez(f, __meta__=np.array(json.dumps(meta)), **arrays)


def _sklearn_version():
    import sklearn

    return sklearn.__version__


def load_model(path):
    """The estimator saved by ``save_model`` at ``path``; a file that is not one, is
    truncated or modified, or has a newer format is a ``ValueError`` saying so."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            files = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a fastgd model file, or truncated ({exc})") from None
    try:
        meta = json.loads(str(files.pop("__meta__")))
        assert isinstance(meta, dict) and meta.get("format") == FORMAT
    except (KeyError, ValueError, AssertionError):
        raise ValueError(f"{path}: not a fastgd model file (no fastgd-model header)") \
            from None
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path}: model format {meta['format_version']} is newer than "
                         f"this fastgd ({fastgd.__version__}) reads ({FORMAT_VERSION}); "
                         "upgrade fastgd")
    digest = meta.pop("sha256", None)
    if digest != _digest(meta, files) or sorted(files) != meta.get("arrays"):
        raise ValueError(f"{path}: checksum mismatch: the model file was modified or is "
                         "corrupt")
    if meta.get("estimator") not in _ESTIMATORS:
        raise ValueError(f"{path}: unknown estimator {meta.get('estimator')!r}")
    params = dict(meta["params"])
    if isinstance(params.get("class_weight"), list):
        params["class_weight"] = {k: v for k, v in params["class_weight"]}
    if isinstance(params.get("learning_rate"), dict):
        params["learning_rate"] = schedules.from_dict(params["learning_rate"])
    est = getattr(fastgd, meta["estimator"])(**params)
    for key, value in meta["attributes"].items():
        setattr(est, key, value)
    for key, value in files.items():
        setattr(est, key, value)
    coef = files.get("coef_")
    if coef is None or coef.shape[-1] != est.n_features_in_:
        raise ValueError(f"{path}: inconsistent model (coef_ does not match "
                         "n_features_in_)")
    return est
