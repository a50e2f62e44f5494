"""Small real datasets bundled with fastgd (LIBSVM collection, Chang & Lin 2011).

- ``a9a`` / ``a9a.t``: UCI Adult as binary sparse features, 32,561 / 16,281 rows x 123
  columns, labels +-1 (Platt 1998; LIBSVM binary collection).
- ``abalone``: UCI Abalone, 4,177 x 8, scaled, target = rings (LIBSVM regression).

Data larger than memory: ``convert_svmlight`` streams svmlight files into an on-disk CSR
in one pass, ``load_mmap`` maps it back (every estimator fits it without a copy);
``iter_svmlight`` yields blocks for ``partial_fit`` loops; ``load_svmlight`` and
``load_data`` (what the command line reads) load with the same parser and checks.
"""

import bz2
import json
import lzma
import os
from importlib import resources

import numpy as np
import numpy.lib.format as npformat
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_file

from fastgd import _svmlight
from fastgd._validation import INDEX_MAX, CheckedWhenWritten

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


# ------------------------------------------------------------------ out-of-core data
FORMAT = "fastgd-csr"
FORMAT_VERSION = 1
_ARRAYS = {"data": np.float64, "indices": np.int32, "indptr": np.int64, "y": np.float64}


class _NpyStream:
    """A one-dimensional .npy file written by appending; its header is fixed on close.

    NumPy pads every header so that the length of the first axis can grow to 21 digits
    in place (``numpy.lib.format``), so the final header has the size of the first.
    """

    def __init__(self, path, dtype):
        self.path, self.dtype, self.n = path, np.dtype(dtype), 0
        self.f = open(path, "wb")
        self._header()
        self.start = self.f.tell()

    def _header(self):
        npformat.write_array_header_1_0(self.f, {"descr": npformat.dtype_to_descr(
            self.dtype), "fortran_order": False, "shape": (self.n,)})

    def append(self, arr):
        np.ascontiguousarray(arr, dtype=self.dtype).tofile(self.f)
        self.n += arr.shape[0]

    def close(self):
        self.f.seek(0)
        self._header()
        if self.f.tell() != self.start:  # not expected from numpy's padding
            raise RuntimeError(f"{self.path}: .npy header changed size")
        self.f.close()


def _paths(src):
    return [src] if isinstance(src, (str, os.PathLike)) else list(src)


def convert_svmlight(src, dst_dir, n_features=None, zero_based="auto"):
    """Convert svmlight/libsvm file(s) to an on-disk CSR for ``load_mmap``, in one pass.

    ``src``: one path or a list (plain, .gz, .bz2 or .xz, by content), concatenated in
    order. ``dst_dir`` receives ``data.npy`` (float64), ``indices.npy`` (int32),
    ``indptr.npy`` (int32, int64 past 2**31 - 1 entries), ``y.npy`` (float64) and
    ``header.json`` (format, version, shape, nnz, sources), written last. Memory is
    bounded by a chunk of the text (4 MB), whatever the file size. Rows are canonical
    (indices sorted, duplicates summed). ``n_features=None``: the largest index + 1.
    ``zero_based='auto'`` is decided by the first 4 MB (see ``_svmlight.parse``).
    A malformed line raises ``ValueError('<file>:<line>: ...')`` and leaves no
    ``header.json``. Returns the header (a dict).
    """
    paths = [os.fspath(p) for p in _paths(src)]
    if not paths:
        raise ValueError("convert_svmlight needs at least one source file.")
    os.makedirs(dst_dir, exist_ok=True)
    header_path = os.path.join(dst_dir, "header.json")
    if os.path.exists(header_path):
        os.remove(header_path)  # the directory is incomplete until the end
    out = {name: _NpyStream(os.path.join(dst_dir, name + ".npy"), dt)
           for name, dt in _ARRAYS.items()}
    out["indptr"].append(np.zeros(1, np.int64))
    nnz, max_index, zb = 0, -1, zero_based
    try:
        for path in paths:
            for chunk in _svmlight.parse(path, zb, n_features):
                out["data"].append(chunk.data)
                out["indices"].append(chunk.indices)
                out["indptr"].append(chunk.indptr[1:] + nnz)
                out["y"].append(chunk.y)
                nnz += chunk.data.shape[0]
                max_index = max(max_index, chunk.max_index)
                zb = chunk.zero_based  # 'auto' is decided once, by the first chunk
    finally:
        for stream in out.values():
            stream.close()
    if zb == "auto":  # no entry at all: nothing to decide
        zb = False
    n_samples = out["y"].n
    if n_samples == 0:
        raise ValueError(f"{', '.join(paths)}: no data (empty file)")
    if nnz <= INDEX_MAX:
        _narrow_indptr(os.path.join(dst_dir, "indptr.npy"))
    header = {"format": FORMAT, "version": FORMAT_VERSION, "n_samples": n_samples,
              "n_features": int(max_index + 1 if n_features is None else n_features),
              "nnz": nnz, "zero_based": bool(zb), "sources": paths,
              "checked": _file_stamps(dst_dir)}
    with open(header_path, "w") as f:
        json.dump(header, f, indent=1)
    return header


def _file_stamps(directory):
    """Size and modification time (ns) of each array file: ``header['checked']`` records
    them when ``convert_svmlight`` has checked what it wrote, and ``load_mmap`` trusts
    those checks only while every file still matches."""
    stamps = {}
    for name in _ARRAYS:
        st = os.stat(os.path.join(directory, name + ".npy"))
        stamps[name] = [st.st_size, st.st_mtime_ns]
    return stamps


def _narrow_indptr(path):
    """Rewrite an int64 ``indptr.npy`` as int32 (its values fit), so that scipy keeps
    the int32 ``indices`` as they are (it casts both to one index dtype)."""
    wide = np.load(path, mmap_mode="r")
    tmp = path + ".tmp"
    stream = _NpyStream(tmp, np.int32)
    step = 1 << 22
    for start in range(0, wide.shape[0], step):
        stream.append(wide[start:start + step])
    stream.close()
    del wide
    os.replace(tmp, path)


def _csr(data, indices, indptr, shape):
    """A csr_matrix holding these very arrays (scipy's constructor would turn memmaps
    into plain views, or cast int32 indices to int64 next to an int64 indptr)."""
    X = sp.csr_matrix(shape, dtype=data.dtype)
    X.data, X.indices, X.indptr = data, indices, indptr
    return X


def load_mmap(directory):
    """``(X, y)`` of a ``convert_svmlight`` directory, memory-mapped read-only.

    ``X`` is a ``scipy.sparse.csr_matrix`` whose ``data``, ``indices`` and ``indptr``
    are ``np.memmap`` (``np.load(mmap_mode='r')``), ``y`` a float64 memmap. Every fastgd
    estimator fits ``X`` as it is, without copying it (its pages are file cache, not
    process memory); only per-row arrays (order, weights, an int64 indptr) are
    allocated. A missing, incomplete or inconsistent directory is a ``ValueError``.

    While its files are the ones ``convert_svmlight`` wrote (same sizes and modification
    times as its header records), ``X`` carries their checks (finite values, indices
    in range, canonical rows): a fit skips scikit-learn's finite check and the index
    range check, each a full read of X, so that an epoch over data larger than memory
    reads the disk once. Files changed since are checked by the fit as any input.
    """
    header_path = os.path.join(directory, "header.json")
    try:
        with open(header_path) as f:
            header = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{directory}: not a converted dataset (no header.json; "
                         "convert_svmlight writes it last)") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{header_path}: corrupt header ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{header_path}: not a {FORMAT} header")
    if header.get("version", 0) > FORMAT_VERSION:
        raise ValueError(f"{directory}: format version {header['version']} is newer than "
                         f"this fastgd reads ({FORMAT_VERSION}); upgrade fastgd")
    arrays = {}
    for name, dtype in _ARRAYS.items():
        try:
            arrays[name] = np.load(os.path.join(directory, name + ".npy"), mmap_mode="r",
                                   allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{directory}: cannot read {name}.npy ({exc})") from None
    n, d, nnz = header["n_samples"], header["n_features"], header["nnz"]
    expected = {"data": nnz, "indices": nnz, "indptr": n + 1, "y": n}
    for name, length in expected.items():
        arr = arrays[name]
        ok_dtype = arr.dtype.kind == "i" if name == "indptr" else arr.dtype == _ARRAYS[name]
        if arr.ndim != 1 or arr.shape[0] != length or not ok_dtype:
            raise ValueError(f"{directory}: {name}.npy has shape {arr.shape} and dtype "
                             f"{arr.dtype}, the header says ({length},)")
    X = _csr(arrays["data"], arrays["indices"], arrays["indptr"], (n, d))
    if header.get("checked") == _file_stamps(directory):
        CheckedWhenWritten((n, d), nnz).put_on(X)
        X.has_canonical_format = True  # convert_svmlight's rows: no O(nnz) scan
    return X, arrays["y"]


def iter_svmlight(path, chunk_rows, n_features, zero_based="auto"):
    """Yield ``(X, y)`` blocks of ``chunk_rows`` rows (the last may be shorter) of an
    svmlight file, for ``partial_fit`` loops; ``X`` is CSR with ``n_features`` columns.

    Example::

        clf = fastgd.SGDClassifier(loss="log_loss")
        for X, y in iter_svmlight("train.svm.gz", 100_000, n_features=2**20):
            clf.partial_fit(X, y, classes=[-1, 1])
    """
    if int(chunk_rows) < 1:
        raise ValueError(f"chunk_rows must be >= 1; got {chunk_rows!r}")
    parts, rows = [], 0
    for chunk in _svmlight.parse(os.fspath(path), zero_based, n_features):
        parts.append((chunk.csr(n_features), chunk.y))
        rows += chunk.n_rows
        while rows >= chunk_rows:
            X = sp.vstack([p[0] for p in parts], format="csr")
            y = np.concatenate([p[1] for p in parts])
            yield _int32(X[:chunk_rows]), y[:chunk_rows]
            parts, rows = [(X[chunk_rows:], y[chunk_rows:])], rows - chunk_rows
    if rows:
        X = sp.vstack([p[0] for p in parts], format="csr")
        yield _int32(X), np.concatenate([p[1] for p in parts])


def _int32(X):
    X.indices = X.indices.astype(np.int32, copy=False)
    X.indptr = X.indptr.astype(np.int32, copy=False)
    return X


def load_svmlight(paths, n_features=None, zero_based="auto"):
    """``(X, y)`` in memory from svmlight file(s) by fastgd's parser (CSR, int32 indices),
    with the same checks and error messages as ``convert_svmlight``."""
    chunks, zb = [], zero_based
    for path in _paths(paths):
        for chunk in _svmlight.parse(os.fspath(path), zb, n_features):
            chunks.append(chunk)
            zb = chunk.zero_based
    if not chunks:
        raise ValueError(f"{', '.join(map(os.fspath, _paths(paths)))}: no data (empty file)")
    d = max(c.max_index for c in chunks) + 1 if n_features is None else n_features
    X = sp.vstack([c.csr(d) for c in chunks], format="csr")
    return _int32(X), np.concatenate([c.y for c in chunks])


def load_data(data, n_features=None):
    """``(X, y)`` of DATA as the command line takes it: a ``convert_svmlight`` directory
    (memory-mapped, ``load_mmap``) or svmlight file(s) (``load_svmlight``). With
    ``n_features``, a directory with fewer columns is widened (no copy), one with more
    is an error."""
    paths = _paths(data)
    if any(os.path.isdir(p) for p in paths):
        if len(paths) > 1:
            raise ValueError("give one converted directory, or svmlight files (convert "
                             "several files into one directory with `fastgd convert`)")
        X, y = load_mmap(paths[0])
        if n_features is not None and X.shape[1] != n_features:
            if X.shape[1] > n_features:
                raise ValueError(f"{paths[0]}: {X.shape[1]} features; the model has "
                                 f"{n_features}")
            canonical = X.has_canonical_format
            X = _csr(X.data, X.indices, X.indptr, (X.shape[0], n_features))
            X.has_canonical_format = canonical
        return X, y
    for p in paths:
        if not os.path.isfile(p):
            raise ValueError(f"{p}: no such file or directory")
    return load_svmlight(paths, n_features)
