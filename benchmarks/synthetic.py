"""Synthetic sparse problems with power-law column frequencies (like text), fixed seed.

    X, y = make_powerlaw(nnz=10**6, task="clf", seed=0)

Shape: about ``nnz / row_nnz`` rows (``row_nnz`` = 40 column draws per row on
average, Poisson-distributed, at least 1; the row count is raised by a seeded pilot
estimate of the duplicates lost, so the realised nnz is within a few % of the request)
and ``n_features = n_samples`` columns. Column ``j`` (0-based) is drawn with probability proportional to
``(j + 1) ** -exponent`` (Zipf-like, exponent 1.1 by default), so a few columns are in
almost every row and most are rare, as in tf-idf text. Duplicate columns within a row
are merged. Values are positive
(log-normal "term weights"), and every row is scaled to unit L2 norm (as tf-idf rows).

Targets come from a dense ground-truth ``w* ~ N(0, 1)`` (scaled so the margins have
unit variance): ``task='clf'``: ``y = sign(X w* + 0.5 N(0,1))`` in {-1, +1};
``task='reg'``: ``y = X w* + 0.1 N(0, 1)``.

Everything comes from ``numpy.random.default_rng(seed)``: a given (nnz, task, seed,
dtype) always gives bit-identical data. Generation is chunked, so the 1e8 problem
needs only the memory of its result (about 1.2 GB in float64/int32).
"""

import numpy as np
import scipy.sparse as sp


def make_powerlaw(nnz=10**6, task="clf", seed=0, row_nnz=40, exponent=1.1,
                  n_features=None, dtype=np.float64, chunk_rows=200_000):
    """(X, y): CSR float ``dtype`` (int32 indices) and float64 targets; see the module doc."""
    rng = np.random.default_rng(seed)
    n = max(int(nnz) // row_nnz, 1)
    d = int(n_features) if n_features is not None else n
    cdf = np.cumsum(np.arange(1, d + 1, dtype=np.float64) ** -exponent)
    cdf /= cdf[-1]
    # merging duplicate columns loses non-zeros: size n from a pilot draw so that the
    # realised nnz is close to the request (the pilot uses its own seeded generator)
    pilot = np.random.default_rng(seed + 1)
    cols = np.searchsorted(cdf, pilot.random((500, row_nnz)), side="right")
    kept = np.mean([np.unique(c).shape[0] for c in cols]) / row_nnz
    n = max(int(round(int(nnz) / (row_nnz * kept))), 1)
    if n_features is None:
        d = n
        cdf = np.cumsum(np.arange(1, d + 1, dtype=np.float64) ** -exponent)
        cdf /= cdf[-1]
    lengths = np.maximum(rng.poisson(row_nnz, size=n), 1)
    lengths = np.minimum(lengths, d)
    data_parts, index_parts = [], []
    row_counts = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        lens = lengths[start:stop]
        rows = np.repeat(np.arange(stop - start, dtype=np.int64), lens)
        cols = np.searchsorted(cdf, rng.random(rows.shape[0]), side="right")
        cols = np.minimum(cols, d - 1).astype(np.int64)
        key = np.unique(rows * d + cols)  # sorted by row, then column; duplicates merged
        r = key // d
        index_parts.append((key - r * d).astype(np.int32))
        row_counts[start:stop] = np.bincount(r, minlength=stop - start)
        data_parts.append(rng.lognormal(0.0, 0.5, size=key.shape[0]))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(row_counts, out=indptr[1:])
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    data = np.concatenate(data_parts)
    indices = np.concatenate(index_parts)
    del data_parts, index_parts
    # unit L2 norm per row
    sq = np.add.reduceat(data * data, indptr[:-1].astype(np.int64)) if n else np.zeros(0)
    data /= np.repeat(np.sqrt(sq), np.diff(indptr))
    X = sp.csr_matrix((data.astype(dtype, copy=False), indices, indptr), shape=(n, d))
    w = rng.standard_normal(d)
    margin = X @ w
    margin /= max(float(np.std(margin)), 1e-12)
    if task == "clf":
        y = np.where(margin + 0.5 * rng.standard_normal(n) >= 0, 1.0, -1.0)
    elif task == "reg":
        y = margin + 0.1 * rng.standard_normal(n)
    else:
        raise ValueError(f"task must be 'clf' or 'reg'; got {task!r}")
    return X, y


def size_label(nnz):
    """'1e6' for 10**6, etc."""
    exp = int(round(np.log10(nnz)))
    return f"1e{exp}" if 10 ** exp == nnz else f"{nnz:g}"


if __name__ == "__main__":
    import sys
    import time

    for arg in sys.argv[1:] or ["1e6"]:
        t = time.perf_counter()
        X, y = make_powerlaw(int(float(arg)))
        print(f"nnz={arg}: {X.shape[0]} x {X.shape[1]}, nnz {X.nnz}, "
              f"{(y > 0).mean():.2f} positive, {time.perf_counter() - t:.1f} s")
