"""Seconds per epoch of every kernel family, Numba against Cython (issue 5).

    python benchmarks/bench_backends.py [--datasets a9a w8a ...] [--repeat 3]
                                        [--covtype-rows N] [--threads 2]

Kernels are called directly (arrays in, one epoch per call), as the estimators call
them, on the real sets of ``../shared/data`` (CSR, float64; covtype scaled with
MaxAbsScaler; a set that is absent is skipped). Families:

- ``plain sgd``: scikit-learn's per-sample SGD (``plain_sgd_epoch``), L2, invscaling;
- ``<rule> b32 lazy|exact``: ``optimizer_epoch`` with batch 32 for rules sgd
  (minibatch: the exact scale trick, so lazy and exact coincide), momentum, adagrad,
  adam; ``lazy`` touches the batch's support only, ``exact`` every coordinate;
- ``sag``, ``saga``, ``svrg``: ``vr_epoch`` (SVRG: snapshot + one inner loop of 2n
  steps), step 1/L, 1/3L, 1/4L;
- ``hogwild plain 2T`` / ``hogwild adam b32 2T``: ``hogwild_*_epoch`` with 2 threads;
- ``full-batch sgd 2T`` / ``full-batch adam 2T``: ``sync_optimizer_epoch``, one batch
  of all samples per epoch, 2 threads.

Loss: log_loss on the binary sets, squared_error on debian-size; alpha = 1e-4. Each
kernel is called once to warm up (Numba compiles or loads its cache there), then
``--repeat`` times; the table reports the median seconds per epoch and the ratio
Cython / Numba (< 1: Cython faster). Both backends replay the same sample orders from
the same start, so they do the same arithmetic (they are bit-identical twins).
"""

import argparse
import bz2
import io
import itertools
import lzma
import os
import platform
import time

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                    "data")
SETS = {
    "a9a": ("a9a.xz", "log_loss"),
    "w8a": ("w8a.xz", "log_loss"),
    "reuters.trn": ("reuters.trn.bz2", "log_loss"),
    "debian-size": ("debian-size.svm.xz", "squared_error"),
    "covtype": ("covtype.libsvm.binary.xz", "log_loss"),
}
ALPHA = 1e-4
BATCH = 32


def load(name, max_rows=None):
    from sklearn.datasets import load_svmlight_file
    from sklearn.preprocessing import MaxAbsScaler

    fname, loss = SETS[name]
    path = os.path.join(DATA, fname)
    if not os.path.exists(path):
        return None
    opener = lzma.open if fname.endswith(".xz") else bz2.open
    with opener(path, "rb") as f:
        if max_rows:
            f = io.BytesIO(b"".join(itertools.islice(f, max_rows)))
        X, y = load_svmlight_file(f, dtype=np.float64)
    X = X.tocsr()
    if name == "covtype":
        X = MaxAbsScaler().fit_transform(X).tocsr()
    if loss == "log_loss":
        y = np.where(y == y.max(), 1.0, -1.0)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int64)
    return X, np.ascontiguousarray(y, dtype=np.float64), loss


def modules(backend):
    from fastgd._backend import kernels, parallel_kernels, vr_kernels

    return kernels(backend), vr_kernels(backend), parallel_kernels(backend)


def families(backend, X, y, loss_name, orders, n_threads):
    """{family: zero-argument callable running one epoch} with fresh state each."""
    from fastgd import _engine
    from fastgd._rules import HP_NAMES, LOSSES, RULES, Schedule, loss_param, records

    sgd, vr, par = modules(backend)
    n, d = X.shape
    data, indices, indptr = X.data, X.indices, X.indptr
    sw = np.ones(n)
    loss = int(LOSSES[loss_name].id)
    param = loss_param(loss_name, 0.1)
    inv = int(Schedule.INVSCALING)
    it = itertools.cycle(orders)
    out = {}

    # -- plain SGD
    def plain_state():
        ip, fp = records(dense_d=0, loss=loss, param=param, penalty=2, alpha=ALPHA,
                         fit_intercept=1, intercept_decay=1.0, schedule=inv, eta=0.01,
                         eta0=0.01, power_t=0.25, sched_alpha=ALPHA, t=1.0, track=1,
                         n_threads=n_threads)
        return [np.zeros(d), np.zeros(d), np.zeros(d),
                np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]), ip, fp]

    def plain(s=plain_state()):
        sgd.plain_sgd_epoch(data, indices, indptr, y, sw, next(it), *s)
    out["plain sgd"] = plain

    # the replicas the engine gives Hogwild! (every column, or none)
    rep = _engine.hogwild_replicas(_engine.Rows.of(X, "numba"), n_threads)

    def hog_plain(s=plain_state(), tstate=np.zeros((n_threads, 11 + par.PAD))):
        with par.guard():
            par.hogwild_plain_epoch(data, indices, indptr, y, sw, next(it), *s, tstate,
                                    rep)

    # -- every rule, batch 32
    def opt_family(rule, lazy, kind, batch=BATCH):
        spec = RULES[rule]
        eta0 = spec.eta0 if rule != "sgd" else 0.01
        w = np.zeros(d + 1)
        state = np.zeros((3, d + 1))
        q = np.zeros(d)
        bs = n if batch == "full" else batch
        K = n_threads
        ip, fp = records(dense_d=0, batch_size=bs, rule=int(spec.id), loss=loss,
                         param=param, alpha=ALPHA, fit_intercept=1, lazy=int(lazy),
                         schedule=inv, eta=eta0, eta0=eta0, power_t=0.25,
                         sched_alpha=ALPHA, t=1.0, n_threads=K,
                         **{h: spec.hyper.get(h, 0.0) for h in HP_NAMES})
        if kind == "serial":
            scratch = (np.zeros(d + 1), np.zeros(d, np.uint8), np.zeros(d, np.int64))
        elif kind == "hogwild":
            scratch = (np.zeros((K, d + 1 + par.PAD)), np.zeros((K, d), np.uint8),
                       np.zeros((K, d), np.int64), np.zeros((K, 4, par.PAD)))
        else:
            scratch = (np.zeros((K, d + 1 + par.PAD)), np.zeros((K + 1, d), np.uint8),
                       np.zeros((K + 1, d), np.int64), np.zeros((K, par.PAD)))
        fn = {"serial": sgd.optimizer_epoch, "hogwild": par.hogwild_optimizer_epoch,
              "sync": par.sync_optimizer_epoch}[kind]

        def run():
            args = (data, indices, indptr, y, sw, next(it), w, state, q, ip, fp, *scratch)
            if kind == "serial":
                fn(*args)
            else:
                with par.guard():
                    fn(*args)
        return run

    for rule in ("sgd", "momentum", "adagrad", "adam"):
        for lazy in (True, False):
            name = f"{rule} b{BATCH} {'lazy' if lazy else 'exact'}"
            out[name] = opt_family(rule, lazy, "serial")

    # -- SAG / SAGA / SVRG
    curv = LOSSES[loss_name].curvature
    sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    L = (sq.max() + 1.0) * curv + ALPHA
    for sid, solver, eta in ((0, "sag", 1.0 / L), (1, "saga", 1.0 / (3.0 * L)),
                             (2, "svrg", 1.0 / (4.0 * L))):
        steps = 2 * n if solver == "svrg" else n
        st = dict(w=np.zeros(d + 1), D=np.zeros(d + 1), gmem=np.zeros(n),
                  seen=np.zeros(0 if solver == "svrg" else n, np.uint8),
                  last=np.zeros(d, np.int64), work=np.zeros((4, steps + 1)))
        st["ip"], st["fp"] = records(dense_d=0, solver=sid, loss=loss, param=param,
                                     eta=eta, lam2=ALPHA, fit_intercept=1)
        idx = np.arange(n, dtype=np.int64)
        UNIFORM = np.zeros(0)  # no importance weights: uniform sampling

        def vr_run(solver=solver, st=st, idx=idx):
            order = next(it)
            if solver == "svrg":
                vr.svrg_snapshot(data, indices, indptr, 0, y, sw, idx, st["w"], st["D"],
                                 st["gmem"], loss, param)
                order = np.concatenate([order, order[::-1]])
            vr.vr_epoch(data, indices, indptr, y, sw, order, UNIFORM, st["w"], st["D"],
                        st["gmem"], st["seen"], st["ip"], st["fp"], st["last"], st["work"])
        out[solver] = vr_run

    # -- threads
    out[f"hogwild plain {n_threads}T"] = hog_plain
    out[f"hogwild adam b{BATCH} lazy {n_threads}T"] = opt_family("adam", True, "hogwild")
    out[f"full-batch sgd {n_threads}T"] = opt_family("sgd", True, "sync", "full")
    out[f"full-batch adam {n_threads}T"] = opt_family("adam", False, "sync", "full")
    return out


def time_epochs(fn, repeat):
    fn()  # warm-up: compile / load the cache, touch the data
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=list(SETS), choices=list(SETS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--covtype-rows", type=int, default=None,
                    help="read only the first N rows of covtype (default: all)")
    ap.add_argument("--families", nargs="*", default=None,
                    help="substrings: only the families whose name contains one")
    args = ap.parse_args()

    from fastgd.kernels import _cy_parallel

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print(f"# Numba vs Cython, seconds per epoch (median of {args.repeat} after a "
          f"warm-up)\n")
    print(f"{platform.processor() or platform.machine()}, {cores} cores; Cython OpenMP: "
          f"{_cy_parallel.OPENMP}; alpha={ALPHA}, CSR float64\n")
    print("| dataset | kernel | numba s/epoch | cython s/epoch | cython / numba |")
    print("|---|---|---:|---:|---:|")
    threading_layer = None
    for name in args.datasets:
        loaded = load(name, args.covtype_rows if name == "covtype" else None)
        if loaded is None:
            print(f"| {name} | (not in {DATA}) | | | |")
            continue
        X, y, loss = loaded
        rng = np.random.RandomState(0)
        orders = [rng.permutation(X.shape[0]).astype(np.int64)
                  for _ in range(args.repeat + 1)]
        label = f"{name} {X.shape[0]}x{X.shape[1]}"
        fams = {b: families(b, X, y, loss, orders, args.threads)
                for b in ("numba", "cython")}
        for fam in fams["numba"]:
            if args.families and not any(s in fam for s in args.families):
                continue
            tn = time_epochs(fams["numba"][fam], args.repeat)
            tc = time_epochs(fams["cython"][fam], args.repeat)
            print(f"| {label} | {fam} | {tn:.4f} | {tc:.4f} | {tc / tn:.2f} |",
                  flush=True)
    try:
        import numba

        threading_layer = numba.threading_layer()
    except (ImportError, ValueError):
        pass
    print(f"\nNumba threading layer: {threading_layer}")


if __name__ == "__main__":
    main()
