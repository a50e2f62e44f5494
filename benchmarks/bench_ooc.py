"""Out-of-core benchmarks (README, "Out-of-core data"); measured numbers only.

1. ``convert_svmlight`` throughput (non-zeros/s) on a generated svmlight file.
2. One epoch from the memory-mapped CSR against the same epoch in memory (page cache
   warm; ratio from the same run), for each epoch order.
3. Passes over the memory-mapped data in a process whose memory (page cache included)
   is capped below the data size by a cgroup-v1 memory limit: seconds per pass and bytes
   read from disk (``/proc/self/io``), each against a sequential read of the files under
   the same cap just before it, with fastgd's read-ahead (``fastgd.epoch_order.
   Readahead``) and without. The file cache is dropped (``posix_fadvise``) before
   each. ``--big-rows N`` repeats this on a file of N rows written as svmlight text and
   converted (``--big-rows 10000000``: 12 GB, under ``--big-cap-mb 3072``: four times
   the memory the process may use; this machine's disk cannot hold a file several
   times its 24 GiB of RAM).
4. The statistical price of ``shuffle_block``: the objective after k epochs against a
   full shuffle, on a9a in its order and sorted by label (the worst case).
5. Vowpal Wabbit (``pip install vowpalwabbit``, not a fastgd dependency) on the same
   rows and passes: wall time per pass and the final objective, measured by
   ``fastgd.objective.objective`` on VW's weights.

    python benchmarks/bench_ooc.py [--rows 1000000] [--cap-mb 512] [--big-rows 10000000]

Writes ``benchmarks/results/ooc.json`` and ``ooc.md`` (with the command line).
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import scipy.sparse as sp

import fastgd
from fastgd.__main__ import _head
from fastgd.datasets import convert_svmlight, load, load_mmap
from fastgd.objective import objective

HERE = os.path.dirname(os.path.abspath(__file__))
N_FEATURES = 1_000_000
NNZ_ROW = 100
DISTINCT = 20_000
ALPHA = 1e-6
VW_CONSTANT = 11650396 % 2**21  # VW's "Constant" feature under -b 21, above N_FEATURES


def generate(svm_path, vw_path, n_rows, seed=0):
    """``n_rows`` rows (``DISTINCT`` distinct ones, repeated; labels from a hidden linear
    model with noise) as svmlight (1-based) and as VW text (0-based names; None: not
    written)."""
    rng = np.random.RandomState(seed)
    w_true = rng.randn(N_FEATURES)
    svm, vw = [], []
    for _ in range(DISTINCT):
        idx = np.sort(rng.choice(np.unique(rng.randint(0, N_FEATURES, 2 * NNZ_ROW)),
                                 NNZ_ROW, replace=False))
        val = np.round(rng.rand(NNZ_ROW), 3)
        label = 1 if val @ w_true[idx] + rng.randn() > 0 else -1
        pairs = [f"{j}:{v:g}" for j, v in zip(idx, val)]
        svm.append(f"{label} " + " ".join(f"{j + 1}:{v:g}" for j, v in zip(idx, val)))
        vw.append(f"{label} | " + " ".join(pairs))
    for path, lines in ((svm_path, svm), (vw_path, vw)):
        if path is None:
            continue
        block = ("\n".join(lines) + "\n").encode()
        with open(path, "wb") as f:
            for _ in range(n_rows // DISTINCT):
                f.write(block)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def epoch_seconds(X, y, **params):
    """Seconds of one epoch of scikit-learn's SGD (log-loss), best of two."""
    kw = dict(loss="log_loss", alpha=ALPHA, max_iter=1, tol=None, random_state=0, **params)
    fastgd.SGDClassifier(**kw).fit(_head(X, 1000), y[:1000])  # kernels for these arrays
    return min(timed(lambda: fastgd.SGDClassifier(**kw).fit(X, y))[0] for _ in range(2))


ORDERS = {"full shuffle": {}, "shuffle_block=65536": {"shuffle_block": 65536},
          "no shuffle": {"shuffle": False}}


def capped_pass(directory, warm_dir, cgroup, what, timeout, readahead=True):
    """Run ``what`` ('read' or an ORDERS key) in a subprocess in the memory cgroup
    ``cgroup``, after fits on the small converted ``warm_dir`` (kernels loaded): seconds
    and bytes read from disk, or None past ``timeout``.
    ``readahead=False``: without fastgd's read-ahead (page faults and Linux's own
    readahead only), for comparison."""
    code = textwrap.dedent(f"""
        import json, os, time
        import numpy as np, fastgd
        from fastgd.__main__ import _head
        from fastgd.datasets import load_mmap
        from fastgd.epoch_order import Readahead
        if not {readahead!r}:
            Readahead.of = classmethod(lambda cls, *arrays: None)
        cg = {cgroup!r}
        open(os.path.join(cg, "cgroup.procs"), "w").write(str(os.getpid()))
        files = [os.path.join({directory!r}, n + ".npy") for n in ("data", "indices", "indptr", "y")]
        def drop():
            for p in files:
                fd = os.open(p, os.O_RDONLY)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                os.close(fd)
        def read_bytes():
            with open("/proc/self/io") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("read_bytes"))
        X, y = load_mmap({directory!r})
        y = np.array(y)
        kw = dict(loss="log_loss", alpha={ALPHA}, max_iter=1, tol=None, random_state=0,
                  **{ORDERS.get(what, {})!r})
        fastgd.SGDClassifier(**kw).fit(_head(X, 1000), y[:1000])
        drop()  # the first 1000 rows, mapped here, stay
        before, start = read_bytes(), time.perf_counter()
        if {what!r} == "read":
            for p in files:
                with open(p, "rb", buffering=0) as f:
                    while f.read(1 << 24):
                        pass
        else:
            fastgd.SGDClassifier(**kw).fit(X, y)
        print(json.dumps({{"seconds": time.perf_counter() - start,
                          "read_bytes": read_bytes() - before}}))
    """)
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def capped_passes(directory, warm_dir, cap_mb, timeout, orders, repeats):
    """One-epoch fits in each of ``orders``, with fastgd's read-ahead and without (page
    faults only), each in a fresh process capped at ``cap_mb`` MiB (page cache
    included) with the file cache dropped, right after a sequential read of the same
    files under the same cap: the disk's speed drifts by tens of percent from minute
    to minute on a shared machine, so each pass is divided by its own read. Medians
    (and ranges) over ``repeats`` rounds; ``orders`` that run past ``timeout`` once
    are not repeated."""
    cgroup = make_cgroup(cap_mb * 2**20)
    if cgroup is None:
        return "no writable memory cgroup: not measured"
    data_bytes = sum(os.path.getsize(os.path.join(directory, n + ".npy"))
                     for n in ("data", "indices", "indptr", "y"))
    out = {"cap MB": cap_mb * 2**20 / 1e6, "data MB": data_bytes / 1e6,
           "rounds": repeats}
    runs = {}
    try:
        for _ in range(repeats):
            for what in orders:
                for readahead in (True, False):
                    key = f"{what}, {'read-ahead' if readahead else 'page faults only'}"
                    if runs.get(key) == "timeout":
                        continue
                    read = capped_pass(directory, warm_dir, cgroup, "read", timeout)
                    r = capped_pass(directory, warm_dir, cgroup, what, timeout, readahead)
                    print(key, read, r, flush=True)
                    if r is None:
                        runs[key] = "timeout"
                    else:
                        runs.setdefault(key, []).append(
                            (r["seconds"], r["seconds"] / read["seconds"],
                             r["read_bytes"] / data_bytes, read["seconds"]))
    finally:
        os.rmdir(cgroup)
    for key, rows in runs.items():
        if rows == "timeout":
            out[key] = f"over {timeout} s"
            continue
        cols = np.array(rows)
        out[key] = {name: {"median": float(np.median(cols[:, k])),
                           "range": [float(cols[:, k].min()), float(cols[:, k].max())]}
                    for k, name in enumerate(["seconds", "/ sequential read",
                                              "bytes read / data", "sequential read s"])}
    return out


def make_cgroup(cap_bytes):
    """A child of this process's memory cgroup (v1) limited to ``cap_bytes``, or None."""
    with open("/proc/self/cgroup") as f:
        mine = next((l.split(":")[2].strip() for l in f if ":memory:" in l), None)
    if mine is None:
        return None
    path = os.path.join("/sys/fs/cgroup/memory", mine.lstrip("/"), "fastgd-bench-ooc")
    try:
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
            f.write(str(cap_bytes))
    except OSError:
        return None
    return path


def block_price(epochs=(1, 5, 20), blocks=(256, 4096), seeds=(0, 1, 2)):
    """Mean objective after k epochs, full shuffle vs shuffle_block, on a9a as shipped
    and sorted by label."""
    X, y = load("a9a")
    order = np.argsort(y, kind="stable")
    out = {}
    for name, (Xd, yd) in {"a9a": (X, y), "a9a sorted by label": (X[order], y[order])}.items():
        for k in epochs:
            for label, extra in [("full shuffle", {})] + [
                    (f"shuffle_block={b}", {"shuffle_block": b}) for b in blocks]:
                vals = []
                for seed in seeds:
                    est = fastgd.SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=k,
                                               tol=None, random_state=seed,
                                               **extra).fit(Xd, yd)
                    vals.append(objective(Xd, yd, est.coef_[0], est.intercept_[0],
                                          "log_loss", 1e-4))
                out[f"{name} | {k} epochs | {label}"] = float(np.mean(vals))
    return out


def vw_runs(vw_path, work, X, y, passes):
    """VW (logistic, --l2 ALPHA) on ``vw_path``: one pass from text, ``passes`` passes
    with its cache; seconds and the objective of its final weights."""
    from vowpalwabbit import pyvw

    model, readable = os.path.join(work, "vw.model"), os.path.join(work, "vw.txt")
    cache = os.path.join(work, "vw.cache")
    common = (f"--loss_function logistic --l2 {ALPHA} -b 21 --holdout_off --quiet "
              f"-d {vw_path}")
    out = {}
    for key, extra in [("1 pass (text)", "--passes 1"),
                       (f"{passes} passes (cache)", f"--passes {passes} -c --cache_file "
                        f"{cache} -k -f {model} --readable_model {readable}")]:
        def run():
            ws = pyvw.Workspace(f"{common} {extra}")
            ws.run_parser()
            ws.finish()
        seconds = timed(run)[0]
        out[key] = {"s": seconds, "s per pass": seconds / (1 if key.startswith("1 ")
                                                          else passes)}
    weights = {}
    with open(readable) as f:
        for line in f:
            head, _, values = line.partition(":")  # index:weight [adaptive normalized]
            if head.isdigit():
                weights[int(head)] = float(values.split()[0])
    w = np.zeros(X.shape[1])
    for j, v in weights.items():
        if j < X.shape[1]:
            w[j] = v
    b = weights.get(VW_CONSTANT, 0.0)
    check = pyvw.Workspace(f"-i {model} -t --quiet")
    with open(vw_path) as f:
        lines = [next(f) for _ in range(200)]
    vw_pred = np.array([check.predict(line) for line in lines])
    check.finish()
    # VW applies --l2 as a lazy global contraction c that the saved weights leave out:
    # its predictions are c (x.w + b); c is fitted on 200 rows and the residual reported
    p = X[:200] @ w + b
    c = float(p @ vw_pred / (p @ p))
    out["contraction c"] = c
    out["max |VW prediction - c (x.w + b)| on 200 rows"] = float(
        np.abs(vw_pred - c * p).max())
    out["objective"] = objective(X, y, c * w, c * b, "log_loss", ALPHA)
    return out


def save(res, out):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".json", "w") as f:
        json.dump(res, f, indent=1)
    with open(out + ".md", "w") as f:
        f.write(f"# Out-of-core benchmark\n\n`{res['command']}` ({res['machine']})\n\n"
                f"```json\n{json.dumps(res, indent=1)}\n```\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cap-mb", type=int, default=600)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--timeout", type=int, default=300,
                        help="seconds allowed to one capped pass")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds of the capped passes (medians reported)")
    parser.add_argument("--big-rows", type=int, default=0,
                        help="also a generated file of this many rows, fitted under "
                             "--big-cap-mb (e.g. 10000000: 12 GB converted)")
    parser.add_argument("--big-cap-mb", type=int, default=3072)
    parser.add_argument("--keep", action="store_true",
                        help="keep the --big-rows directory")
    parser.add_argument("--workdir", default="/tmp/fastgd-bench-ooc")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "ooc"))
    args = parser.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    svm, vwf = os.path.join(args.workdir, "data.svm"), os.path.join(args.workdir, "data.vw")
    directory = os.path.join(args.workdir, "data.d")
    res = {"command": "python benchmarks/bench_ooc.py " + shlex.join(argv or sys.argv[1:]),
           "machine": f"{os.cpu_count()} CPUs, "
           f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM"}
    generate(svm, vwf, args.rows)
    seconds, header = timed(lambda: convert_svmlight(svm, directory))
    data_bytes = sum(os.path.getsize(os.path.join(directory, n + ".npy"))
                     for n in ("data", "indices", "indptr", "y"))
    res["convert"] = {"rows": header["n_samples"], "nnz": header["nnz"],
                      "text MB": os.path.getsize(svm) / 1e6, "binary MB": data_bytes / 1e6,
                      "seconds": seconds, "nnz/s": header["nnz"] / seconds,
                      "text MB/s": os.path.getsize(svm) / 1e6 / seconds}
    print(json.dumps(res["convert"], indent=1), flush=True)
    save(res, args.out)

    # capped passes first: a page this process maps cannot be dropped from the cache
    warm_dir = os.path.join(args.workdir, "warm.d")
    with open(svm, "rb") as f, open(svm + ".head", "wb") as g:
        g.writelines(f.readline() for _ in range(1000))
    convert_svmlight(svm + ".head", warm_dir, n_features=N_FEATURES)
    res["capped"] = capped_passes(directory, warm_dir, args.cap_mb, args.timeout,
                                  list(ORDERS), args.repeats)
    print(json.dumps(res["capped"], indent=1), flush=True)
    save(res, args.out)

    if args.big_rows:
        # several times the memory the fit may use (the cgroup's cap): text written,
        # converted as a user would (convert's rate at this size), the text deleted
        big_svm, big_dir = os.path.join(args.workdir, "big.svm"), os.path.join(
            args.workdir, "big.d")
        generate(big_svm, None, args.big_rows)
        seconds, big = timed(lambda: convert_svmlight(big_svm, big_dir))
        text_mb = os.path.getsize(big_svm) / 1e6
        os.remove(big_svm)
        res["larger than memory"] = {
            "convert": {"rows": big["n_samples"], "nnz": big["nnz"], "text MB": text_mb,
                        "seconds": seconds, "nnz/s": big["nnz"] / seconds},
            **capped_passes(big_dir, warm_dir, args.big_cap_mb, args.timeout,
                            ["no shuffle", "shuffle_block=65536"], args.repeats)}
        print(json.dumps(res["larger than memory"], indent=1), flush=True)
        save(res, args.out)
        if not args.keep:
            shutil.rmtree(big_dir)

    Xm, ym = load_mmap(directory)
    X = sp.csr_matrix((np.array(Xm.data), np.array(Xm.indices), np.array(Xm.indptr)),
                      shape=Xm.shape)
    y = np.array(ym)
    res["epoch (page cache warm)"] = {}
    for name, params in ORDERS.items():
        mem, mm = epoch_seconds(X, y, **params), epoch_seconds(Xm, ym, **params)
        res["epoch (page cache warm)"][name] = {
            "in-memory s": mem, "memmap s": mm, "memmap / in-memory": mm / mem,
            "memmap nnz/s": header["nnz"] / mm}
    print(json.dumps(res["epoch (page cache warm)"], indent=1), flush=True)
    save(res, args.out)

    res["shuffle_block price (mean objective, 3 seeds)"] = block_price()

    res["vs Vowpal Wabbit"] = {"passes": args.passes, "alpha": ALPHA}
    for label, params in [("fastgd sgd (optimal)", {}),
                          ("fastgd adagrad eta0=0.1", {"optimizer": "adagrad",
                                                       "eta0": 0.1})]:
        kw = dict(loss="log_loss", alpha=ALPHA, max_iter=args.passes, tol=None,
                  random_state=0, **params)
        fastgd.SGDClassifier(**kw).fit(_head(Xm, 1000), ym[:1000])
        seconds, est = timed(lambda: fastgd.SGDClassifier(**kw).fit(Xm, ym))
        res["vs Vowpal Wabbit"][label] = {
            "s per pass": seconds / args.passes,
            "objective": objective(X, y, est.coef_[0], est.intercept_[0], "log_loss",
                                   ALPHA)}
    try:
        res["vs Vowpal Wabbit"]["vw"] = vw_runs(vwf, args.workdir, X, y, args.passes)
    except ImportError:
        res["vs Vowpal Wabbit"]["vw"] = "vowpalwabbit is not installed"
    print(json.dumps(res["vs Vowpal Wabbit"], indent=1), flush=True)

    save(res, args.out)


if __name__ == "__main__":
    main()
