"""Sequential-read memory bandwidth of one core, measured with a compiled loop.

    python benchmarks/bandwidth.py [--mb 512] [--repeat 7]

A Numba kernel sums a large float64 array (``--mb`` MiB, far above the last-level
cache) with ``fastmath=True`` so that the reduction is vectorised and the loop is
limited by memory, not by the add latency (NumPy's ``sum`` is compute-bound here, so
it underestimates the bandwidth). Single thread. Reported: the best of ``--repeat``
passes after one warm-up pass, in GB/s (1e9 bytes per second).

``epoch_bytes(X, y)`` is the least one epoch over CSR ``X`` must read:
``nnz * (value bytes + index bytes) + indptr bytes + y bytes``; divided by the
bandwidth it is the time bound an epoch cannot beat.
"""

import argparse
import time

import numpy as np


def _kernel():
    import numba

    @numba.njit(fastmath=True, nogil=True, cache=False)
    def seq_sum(a):
        s = 0.0
        for i in range(a.shape[0]):
            s += a[i]
        return s

    return seq_sum


def measure(mb=512, repeat=7):
    """Best single-thread read bandwidth in GB/s over ``repeat`` passes of ``mb`` MiB."""
    a = np.ones(int(mb) * (1 << 20) // 8, dtype=np.float64)
    kern = _kernel()
    kern(a[:16])
    kern(a)  # warm-up: page faults, TLB, frequency
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        kern(a)
        best = min(best, time.perf_counter() - t)
    return a.nbytes / best / 1e9


def epoch_bytes(X, y=None):
    """Bytes one epoch over CSR ``X`` (and targets ``y``) must read at least."""
    if hasattr(X, "indptr"):
        nb = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    else:
        nb = np.asarray(X).nbytes
    if y is not None:
        nb += np.asarray(y, dtype=np.float64).nbytes
    return int(nb)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"{measure(args.mb, args.repeat):.1f} GB/s (single thread, sequential read, "
          f"{args.mb} MiB)")


if __name__ == "__main__":
    main()
