"""Checks that keep malformed input out of the compiled kernels.

The kernels index ``w`` by a CSR matrix's ``indices`` and walk its ``indptr`` without
bounds checks (that is what makes them fast), and scipy's constructors accept broken
structure (``csr_matrix((data, indices, indptr))`` checks little). So every array that
reaches a kernel is checked here first, in O(nnz), with a clear ``ValueError``.
"""

import numpy as np
import scipy.sparse as sp

INDEX_MAX = np.iinfo(np.int32).max  # the kernels' column indices are int32


class CheckedWhenWritten:
    """The mark ``fastgd.datasets.load_mmap`` puts on the arrays of a CSR matrix whose
    files ``convert_svmlight`` wrote and checked (finite values, indices in range) and
    that have not changed since (size and modification time). The same mark on
    ``data``, ``indices`` and ``indptr``, all three read-only, spares a fit the O(nnz)
    checks below: on data larger than memory each of them is a read of the disk."""

    def __init__(self, shape, nnz):
        self.shape, self.nnz = shape, nnz

    def put_on(self, X):
        for arr in (X.data, X.indices, X.indptr):
            arr._fastgd_checked = self
        return X


def checked_when_written(X):
    """True for a CSR matrix of ``load_mmap`` that carries its ``CheckedWhenWritten``
    mark (its arrays are the marked read-only memmaps, widened by columns at most)."""
    if not sp.issparse(X) or X.format != "csr":
        return False
    mark = getattr(X.data, "_fastgd_checked", None)
    return (mark is not None
            and all(getattr(a, "_fastgd_checked", None) is mark and not a.flags.writeable
                    for a in (X.indices, X.indptr))
            and not X.data.flags.writeable
            and X.shape[0] == mark.shape[0] and X.shape[1] >= mark.shape[1]
            and X.data.shape[0] == X.indices.shape[0] == mark.nnz)


def check_sparse_structure(X):
    """Raise a ValueError unless the CSR/CSC matrix ``X`` is well formed.

    Checked (O(nnz), nothing copied or modified): ``indptr`` has one entry per row
    (column for CSC) plus one, starts at 0, never decreases and ends within ``indices``
    and ``data``; every index lies in [0, n_features); the minor dimension fits the
    kernels' int32 indices. Other formats are checked by scipy when converted. The
    O(nnz) index range is skipped for a matrix ``checked_when_written``.
    """
    if not sp.issparse(X) or X.format not in ("csr", "csc"):
        return
    n_major, n_minor = X.shape if X.format == "csr" else X.shape[::-1]
    what = "row" if X.format == "csr" else "column"
    other = "column" if X.format == "csr" else "row"
    indptr, indices, data = X.indptr, X.indices, X.data
    if indptr.ndim != 1 or indices.ndim != 1 or data.ndim != 1:
        raise ValueError(f"Malformed {X.format.upper()} matrix: indptr, indices and data "
                         "must be one-dimensional.")
    if indptr.shape[0] != n_major + 1:
        raise ValueError(f"Malformed {X.format.upper()} matrix: indptr has "
                         f"{indptr.shape[0]} entries, expected {n_major + 1} (one per "
                         f"{what} plus one).")
    if n_minor > INDEX_MAX:
        raise ValueError(f"X has {n_minor} {other}s; fastgd supports at most {INDEX_MAX} "
                         "(int32 indices).")
    if indptr[0] != 0:
        raise ValueError(f"Malformed {X.format.upper()} matrix: indptr[0] is "
                         f"{indptr[0]}, expected 0.")
    nnz = int(indptr[-1])
    if nnz > indices.shape[0] or nnz > data.shape[0]:
        raise ValueError(f"Malformed {X.format.upper()} matrix: indptr[-1] = {nnz} "
                         f"exceeds the stored entries (indices: {indices.shape[0]}, "
                         f"data: {data.shape[0]}).")
    if n_major and np.any(indptr[1:] < indptr[:-1]):
        raise ValueError(f"Malformed {X.format.upper()} matrix: indptr decreases (a "
                         f"{what} with a negative number of entries).")
    if nnz and not checked_when_written(X):
        used = indices[:nnz]
        lo, hi = used.min(), used.max()
        if lo < 0:
            raise ValueError(f"Malformed {X.format.upper()} matrix: negative {other} "
                             f"index {lo}.")
        if hi >= n_minor:
            raise ValueError(f"Malformed {X.format.upper()} matrix: {other} index {hi} is "
                             f"out of range for {n_minor} {other}s.")


def without_duplicates(X):
    """``X`` itself when no (row, column) is stored twice, else a copy with the
    duplicates summed (scipy's ``sum_duplicates``, which also sorts each row)."""
    if not sp.issparse(X) or X.has_canonical_format:
        return X
    X = X.copy()
    X.sum_duplicates()
    return X
