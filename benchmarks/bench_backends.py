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
    from fastgd._rules import HP_NAMES, LOSSES, RULES, Schedule, loss_param

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
    plain_lr_params = np.array([0.01, 0.01, 0.25, ALPHA, 0.0])  # fastgd._rules.SCHED_NAMES

    def plain_state():
        return [np.zeros(d), np.zeros(d), np.zeros(d),
                np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]), [1.0]]

    def plain(s=plain_state()):
        w, aw, q, st, t = s
        t[0], _ = sgd.plain_sgd_epoch(data, indices, indptr, 0, y, sw, next(it), w, aw, q,
                                      st, loss, param, 2, ALPHA, 0.0, True, 1.0, inv,
                                      plain_lr_params, t[0], 0, True)
    out["plain sgd"] = plain

    def hog_plain(s=plain_state(), tstate=np.zeros((n_threads, 9 + par.PAD))):
        w, aw, q, st, t = s
        with par.guard():
            t[0], _ = par.hogwild_plain_epoch(data, indices, indptr, 0, y, sw, next(it),
                                              w, aw, q, st, loss, param, 2, ALPHA, 0.0,
                                              True, 1.0, inv, plain_lr_params, t[0], 0, True,
                                              n_threads, tstate)

    # -- every rule, batch 32
    def rule_args(rule):
        spec = RULES[rule]
        hp = np.array([spec.hyper.get(h, 0.0) for h in HP_NAMES])
        eta0 = spec.eta0 if rule != "sgd" else 0.01
        return hp, int(spec.id), eta0

    def opt_family(rule, lazy, kind, batch=BATCH):
        hp, rid, eta0 = rule_args(rule)
        lr_params = np.array([eta0, eta0, 0.25, ALPHA, 0.0])
        w = np.zeros(d + 1)
        state = np.zeros((3, d + 1))
        q = np.zeros(d)
        tu = [1.0, 0.0]
        bs = n if batch == "full" else batch
        K = n_threads
        if kind == "serial":
            scratch = (np.zeros(d + 1), np.zeros(bs), np.zeros(d, np.uint8),
                       np.zeros(d, np.int64))
        elif kind == "hogwild":
            scratch = (K, np.zeros((K, d + 1 + par.PAD)), np.zeros((K, bs + par.PAD)),
                       np.zeros((K, d), np.uint8), np.zeros((K, d), np.int64),
                       np.zeros((K, par.PAD)), np.zeros((K, 3, par.PAD)),
                       np.zeros((K, par.PAD)))
        else:
            scratch = (K, np.zeros((K, d + 1 + par.PAD)), np.zeros((K, d), np.uint8),
                       np.zeros((K, d), np.int64), np.zeros(d, np.uint8),
                       np.zeros(d, np.int64), np.zeros((K, par.PAD)))
        fn = {"serial": sgd.optimizer_epoch, "hogwild": par.hogwild_optimizer_epoch,
              "sync": par.sync_optimizer_epoch}[kind]

        def run():
            args = (data, indices, indptr, 0, y, sw, next(it), bs, w, state, hp, q, rid,
                    loss, param, ALPHA, 0.0, True, lazy, inv, lr_params, tu[0], tu[1],
                    *scratch)
            if kind == "serial":
                tu[0], tu[1], _ = fn(*args)
            else:
                with par.guard():
                    tu[0], tu[1], _ = fn(*args)
        return run

    for rule in ("sgd", "momentum", "adagrad", "adam"):
        for lazy in (True, False):
            name = f"{rule} b{BATCH} {'lazy' if lazy else 'exact'}"
            out[name] = opt_family(rule, lazy, "serial")

    # -- SAG / SAGA / SVRG
    curv = {"log_loss": 0.25, "squared_error": 1.0}[loss_name]
    sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    L = (sq.max() + 1.0) * curv + ALPHA
    for sid, solver, eta in ((0, "sag", 1.0 / L), (1, "saga", 1.0 / (3.0 * L)),
                             (2, "svrg", 1.0 / (4.0 * L))):
        steps = 2 * n if solver == "svrg" else n
        st = dict(w=np.zeros(d + 1), D=np.zeros(d + 1), gmem=np.zeros(n),
                  seen=np.zeros(0 if solver == "svrg" else n, np.uint8), m=[0],
                  last=np.zeros(d, np.int64), A=np.zeros(steps + 1),
                  B=np.zeros(steps + 1), cp=np.zeros(steps + 1), invs=np.zeros(steps + 1))
        idx = np.arange(n, dtype=np.int64)

        def vr_run(sid=sid, solver=solver, eta=eta, st=st, idx=idx):
            order = next(it)
            if solver == "svrg":
                vr.svrg_snapshot(data, indices, indptr, 0, y, sw, idx, st["w"], st["D"],
                                 st["gmem"], loss, param)
                order = np.concatenate([order, order[::-1]])
            st["m"][0] = vr.vr_epoch(data, indices, indptr, 0, y, sw, order, st["w"],
                                     st["D"], st["gmem"], st["seen"], st["m"][0], sid,
                                     loss, param, eta, ALPHA, 0.0, True, st["last"],
                                     st["A"], st["B"], st["cp"], st["invs"])
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
