"""Out-of-core data: the streaming svmlight parser, convert_svmlight / load_mmap,
iter_svmlight, fits on memory-mapped CSR (no copy), the block-wise epoch order and the
progress bar."""

import bz2
import concurrent.futures
import gzip
import io
import json
import lzma
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer

import fastgd
from fastgd import _svmlight
from fastgd._validation import checked_when_written
from fastgd.datasets import (_csr, convert_svmlight, iter_svmlight, load, load_data,
                             load_mmap, load_svmlight)
from fastgd.epoch_order import Readahead, block_shuffle

# an empty cwd, from which `python -c` imports the installed package (in
# /tmp itself, a stray file such as nt.py would shadow the standard library)
OUTSIDE = tempfile.mkdtemp(prefix="fastgd-cwd-")
MESSY = b"""# a comment line
+1 3:0.5 1:2 3:0.25 7:-1e-3   # unsorted, a duplicate, an exponent
-1 2:1.5

1 1:1 2:2 3:3 4:4 5:5 6:6 7:7
-1
"""


def write(path, payload, opener=open):
    with opener(path, "wb") as f:
        f.write(payload)
    return str(path)


def random_svmlight(path, n=300, d=40, seed=0, zero_based=False):
    rng = np.random.RandomState(seed)
    X = sp.random(n, d, density=0.2, format="csr", random_state=rng)
    X.data = np.round(X.data * 10 - 5, 3)
    y = np.where(rng.rand(n) < 0.4, 1.0, -1.0)
    dump_svmlight_file(X, y, str(path), zero_based=zero_based)
    return X, y


@pytest.mark.parametrize("opener", [open, gzip.open, bz2.open, lzma.open])
def test_parser_matches_sklearn_on_messy_lines(tmp_path, opener):
    path = write(tmp_path / "messy.svm", MESSY, opener)
    X, y = load_svmlight(path)
    expected = np.zeros((4, 7))  # scikit-learn's loader refuses unsorted rows
    expected[0, [0, 2, 6]] = [2, 0.75, -1e-3]
    expected[1, 1] = 1.5
    expected[2] = np.arange(1, 8)
    assert X.shape == (4, 7) and X.has_canonical_format and X.indices.dtype == np.int32
    assert np.array_equal(X.toarray(), expected) and np.array_equal(y, [1, -1, 1, -1])
    sorted_rows = io.BytesIO()
    dump_svmlight_file(X, y, sorted_rows)
    sorted_rows.seek(0)
    assert (load_svmlight_file(sorted_rows, n_features=7)[0] != X).nnz == 0


def test_convert_many_files_equals_concatenation(tmp_path):
    X1, y1 = random_svmlight(tmp_path / "a.svm", seed=1)
    X2, y2 = random_svmlight(tmp_path / "b.svm", n=123, seed=2)
    header = convert_svmlight([tmp_path / "a.svm", tmp_path / "b.svm"], tmp_path / "d",
                              n_features=40)
    X, y = load_mmap(tmp_path / "d")
    assert header["n_samples"] == 423 and header["nnz"] == X1.nnz + X2.nnz
    assert np.array_equal(X.toarray(), sp.vstack([X1, X2]).toarray())
    assert np.array_equal(y, np.concatenate([y1, y2]))
    for arr in (X.data, X.indices, X.indptr, y):
        assert isinstance(arr, np.memmap) and not arr.flags.writeable
    assert X.indices.dtype == np.int32 and X.indptr.dtype == np.int32


def test_zero_based_auto_and_explicit(tmp_path):
    X, _ = random_svmlight(tmp_path / "z.svm", zero_based=True)
    assert X[:, 0].nnz  # the file holds index 0
    assert np.array_equal(load_svmlight(tmp_path / "z.svm", 40)[0].toarray(), X.toarray())
    assert convert_svmlight(tmp_path / "z.svm", tmp_path / "d")["zero_based"] is True
    with pytest.raises(ValueError, match=r"z\.svm:\d+: feature index 0 in a one-based"):
        load_svmlight(tmp_path / "z.svm", zero_based=False)
    # 'auto' is decided by the first chunk: a 0 after it is an error, not a silent shift
    path = write(tmp_path / "late.svm", b"1 1:1 2:1\n" * 10 + b"\n-1 0:1\n")
    with pytest.raises(ValueError, match=r"late\.svm:12: feature index 0 in a one-based"):
        list(_svmlight.parse(path, "auto", None, chunk_bytes=32))


@pytest.mark.parametrize("payload, where, what", [
    (b"1 1:1\n-1 2:x\n", 2, "bad token '2:x'"),
    (b"1 1:1\n-1 2:1 9:1\n", 2, "feature index 9 is beyond n_features=5"),
    (b"1 1:1\nfoo 2:1\n", 2, "bad label 'foo'"),
    (b"1 1:1\n-1 2:nan\n", 2, "value nan"),
    (b"1 1:1 2\n", 1, "bad token '2'"),
    (b"1 1:2:3\n", 1, "bad token '1:2:3'"),
    (b"1 1 :2\n", 1, "bad token '1'"),
    (b"1 1.5:2\n", 1, "feature index 1.5 is not an integer"),
    (b"inf 1:2\n", 1, "label is inf"),
])
def test_malformed_line_names_file_and_line(tmp_path, payload, where, what):
    path = write(tmp_path / "bad.svm", payload)
    for call in (lambda: load_svmlight(path, n_features=5),
                 lambda: convert_svmlight(path, tmp_path / "d", n_features=5),
                 lambda: list(iter_svmlight(path, 10, n_features=5))):
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value).startswith(f"{path}:{where}: ") and what in str(info.value)
    assert not os.path.exists(tmp_path / "d" / "header.json")  # never a half directory


def test_empty_and_truncated_files(tmp_path):
    empty = write(tmp_path / "empty.svm", b"# only a comment\n\n")
    with pytest.raises(ValueError, match="no data"):
        convert_svmlight(empty, tmp_path / "d")
    with pytest.raises(ValueError, match="no data"):
        load_svmlight(empty)
    for opener, suffix in [(gzip.open, "gz"), (bz2.open, "bz2"), (lzma.open, "xz")]:
        full = write(tmp_path / f"ok.svm.{suffix}", MESSY * 2000, opener)
        blob = open(full, "rb").read()
        cut = write(tmp_path / f"cut.svm.{suffix}", blob[:len(blob) // 2])
        with pytest.raises(ValueError, match="truncated or corrupt compressed file"):
            convert_svmlight(cut, tmp_path / "d")


def test_load_mmap_refuses_bad_directories(tmp_path):
    random_svmlight(tmp_path / "a.svm")
    convert_svmlight(tmp_path / "a.svm", tmp_path / "d")
    load_mmap(tmp_path / "d")
    header = json.loads((tmp_path / "d" / "header.json").read_text())
    (tmp_path / "d" / "header.json").write_text(json.dumps({**header, "version": 99}))
    with pytest.raises(ValueError, match="newer"):
        load_mmap(tmp_path / "d")
    (tmp_path / "d" / "header.json").write_text(json.dumps({**header, "nnz": 5}))
    with pytest.raises(ValueError, match="data.npy has shape"):
        load_mmap(tmp_path / "d")
    with pytest.raises(ValueError, match="no header.json"):
        load_mmap(tmp_path)


def test_iter_svmlight_blocks_and_partial_fit(tmp_path):
    X, y = random_svmlight(tmp_path / "a.svm", n=1000)
    blocks = list(iter_svmlight(tmp_path / "a.svm", 256, n_features=40))
    assert [b[0].shape for b in blocks] == [(256, 40)] * 3 + [(232, 40)]
    assert np.array_equal(sp.vstack([b[0] for b in blocks]).toarray(), X.toarray())
    assert np.array_equal(np.concatenate([b[1] for b in blocks]), y)
    streamed = fastgd.SGDClassifier(loss="log_loss", random_state=0)
    sliced = fastgd.SGDClassifier(loss="log_loss", random_state=0)
    for (Xb, yb), start in zip(blocks, range(0, 1000, 256)):
        streamed.partial_fit(Xb, yb, classes=[-1.0, 1.0])
        sliced.partial_fit(X[start:start + 256], y[start:start + 256], classes=[-1.0, 1.0])
    assert np.array_equal(streamed.coef_, sliced.coef_)


@pytest.mark.parametrize("params", [
    dict(),  # scikit-learn's plain SGD
    dict(optimizer="adam", batch_size=8),
    dict(solver="saga"),
    dict(shuffle_block=64),
])
def test_memmapped_fit_equals_in_memory_fit(tmp_path, params):
    random_svmlight(tmp_path / "a.svm", n=2000)
    convert_svmlight(tmp_path / "a.svm", tmp_path / "d")
    Xm, ym = load_mmap(tmp_path / "d")
    X, y = load_svmlight(tmp_path / "a.svm")
    kw = dict(loss="log_loss", max_iter=3, tol=None, random_state=0, **params)
    a = fastgd.SGDClassifier(**kw).fit(Xm, ym)
    b = fastgd.SGDClassifier(**kw).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    assert isinstance(Xm.data, np.memmap)  # the fit left X as it was


def test_memmapped_fit_allocates_far_less_than_the_data(tmp_path):
    """A fit on ~230 MB of memory-mapped CSR: the process's anonymous memory (RssAnon,
    sampled while the kernels run) grows by a small fraction of it, and coef_ is the
    in-memory fit's, bit for bit."""
    n_rows, nnz_row, d = 80_000, 250, 50_000
    rng = np.random.RandomState(0)
    lines = []
    for _ in range(500):  # 500 distinct rows, repeated: a 150 MB file written fast
        idx = np.sort(rng.choice(d, nnz_row, replace=False)) + 1
        lines.append(("1 " if idx[0] % 2 else "-1 ") + " ".join(f"{j}:1" for j in idx))
    block = ("\n".join(lines) + "\n").encode()
    with open(tmp_path / "big.svm", "wb") as f:
        for _ in range(n_rows // 500):
            f.write(block)
    header = convert_svmlight(tmp_path / "big.svm", tmp_path / "d")
    os.remove(tmp_path / "big.svm")
    data_bytes = sum(os.path.getsize(tmp_path / "d" / f"{a}.npy")
                     for a in ("data", "indices", "indptr"))
    assert header["nnz"] == n_rows * nnz_row and data_bytes > 200e6
    code = f"""
        import json, threading
        import numpy as np, fastgd
        from fastgd.__main__ import _head
        from fastgd.datasets import load_mmap

        def rss_anon():
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) * 1024 for l in f if l.startswith("RssAnon"))

        X, y = load_mmap({str(tmp_path / "d")!r})
        kw = dict(loss="log_loss", max_iter=2, tol=None, random_state=0)
        from fastgd._backend import wait_for_numba
        fastgd.SGDClassifier(**kw).fit(_head(X, 500), y[:500])  # on Cython (hand-off)
        wait_for_numba()  # the hand-off's loader thread: not the fit's memory
        fastgd.SGDClassifier(**kw).fit(_head(X, 500), y[:500])  # Numba's kernels loaded
        base, peak, done = rss_anon(), [0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_anon())
                done.wait(0.002)

        watcher = threading.Thread(target=sample)
        watcher.start()
        clf = fastgd.SGDClassifier(**kw).fit(X, y)
        done.set()
        watcher.join()
        peak[0] = max(peak[0], rss_anon())
        np.save({str(tmp_path / "coef.npy")!r}, clf.coef_)
        print(json.dumps({{"base": base, "peak": peak[0]}}))
    """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=OUTSIDE,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    mem = json.loads(proc.stdout.strip().splitlines()[-1])
    grew = mem["peak"] - mem["base"]
    assert grew < data_bytes / 10, (grew, data_bytes)
    Xm, ym = load_mmap(tmp_path / "d")
    X = sp.csr_matrix((np.array(Xm.data), np.array(Xm.indices), np.array(Xm.indptr)),
                      shape=Xm.shape)
    ref = fastgd.SGDClassifier(loss="log_loss", max_iter=2, tol=None,
                               random_state=0).fit(X, np.array(ym))
    assert np.array_equal(np.load(tmp_path / "coef.npy"), ref.coef_)


def test_converted_directory_is_trusted_until_its_files_change(tmp_path):
    """convert_svmlight checked every value and index it wrote; load_mmap passes that on
    (a fit then skips the O(nnz) checks, each a read of the disk) only while the files
    are the ones it wrote, and the mark cannot be moved to other arrays."""
    random_svmlight(tmp_path / "a.svm", n=500)
    convert_svmlight(tmp_path / "a.svm", tmp_path / "d")
    X, y = load_mmap(tmp_path / "d")
    assert checked_when_written(X) and X.has_canonical_format
    wide, _ = load_data(str(tmp_path / "d"), n_features=60)
    assert wide.shape == (500, 60) and checked_when_written(wide)
    for other in (X.copy(), X[:10], _csr(X.data, np.array(X.indices), X.indptr, X.shape),
                  _csr(X.data, X.indices, X.indptr, (500, 5))):
        assert not checked_when_written(other)
    header = json.loads((tmp_path / "d" / "header.json").read_text())
    del header["checked"]  # a directory written before the checks were recorded
    (tmp_path / "d" / "header.json").write_text(json.dumps(header))
    assert not checked_when_written(load_mmap(tmp_path / "d")[0])
    convert_svmlight(tmp_path / "a.svm", tmp_path / "d")
    indices = np.load(tmp_path / "d" / "indices.npy", mmap_mode="r+")
    indices[7] = 10_000  # changed after convert: the fit checks it as any input
    indices.flush()
    del indices
    X, y = load_mmap(tmp_path / "d")
    assert not checked_when_written(X)
    with pytest.raises(ValueError, match="index 10000 is out of range"):
        fastgd.SGDClassifier(max_iter=1, tol=None).fit(X, y)


@pytest.mark.parametrize("backend", ["numba", "cython"])
@pytest.mark.parametrize("params", [dict(shuffle_block=64), dict(shuffle_block=300),
                                    dict(), dict(shuffle=False, tol=1e-3, max_iter=20)])
def test_readahead_segments_take_the_same_steps(tmp_path, monkeypatch, params, backend):
    """An epoch over memory-mapped rows runs in segments with the next rows' file pages
    asked for ahead: the same bits and the same n_iter_ as the in-memory fit, and the
    pages asked for are those of the rows read (a block-wise order: all of them)."""
    random_svmlight(tmp_path / "a.svm", n=3000)
    convert_svmlight(tmp_path / "a.svm", tmp_path / "d")
    Xm, ym = load_mmap(tmp_path / "d")
    X, y = load_svmlight(tmp_path / "a.svm")
    monkeypatch.setattr(Readahead, "SEGMENT_BYTES", 1024)  # 256-row segments
    monkeypatch.setattr(Readahead, "AHEAD_BYTES", 4096)
    monkeypatch.setattr(Readahead, "GAP_BYTES", 512)
    asked, calls = {}, []
    real = os.posix_fadvise

    def spy(fd, offset, length, advice):
        if advice == os.POSIX_FADV_WILLNEED:
            name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
            asked.setdefault(name, np.zeros(os.path.getsize(tmp_path / "d" / name), bool))
            asked[name][offset:offset + length] = True
        return real(fd, offset, length, advice)

    class InThisThread:  # every request made, none dropped by the end of the epoch
        def __init__(self, *args, **kwargs):
            pass

        def submit(self, fn, *args):
            fn(*args)

        def shutdown(self, **kwargs):
            pass

    monkeypatch.setattr(os, "posix_fadvise", spy)
    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", InThisThread)
    steps = Readahead.segments
    monkeypatch.setattr(Readahead, "segments",
                        lambda self, order: calls.append(1) or steps(self, order))
    kw = {**dict(loss="log_loss", max_iter=3, tol=None, random_state=0, backend=backend),
          **params}
    a = fastgd.SGDClassifier(**kw).fit(Xm, ym)
    b = fastgd.SGDClassifier(**kw).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    assert a.n_iter_ == b.n_iter_ and len(calls) == a.n_iter_
    if "shuffle_block" in params:
        header = 128  # numpy's .npy header
        for name in ("data.npy", "indices.npy"):
            assert asked[name][header:].all(), name
    elif params.get("shuffle") is False:
        assert not asked  # storage order: Linux's own readahead


def test_readahead_without_its_files(tmp_path, monkeypatch):
    """Files removed after they were mapped: the mapping still reads them, and the fit
    runs without reading ahead (nothing to open)."""
    random_svmlight(tmp_path / "a.svm", n=1000)
    convert_svmlight(tmp_path / "a.svm", tmp_path / "d")
    Xm, ym = load_mmap(tmp_path / "d")
    X, y = load_svmlight(tmp_path / "a.svm")
    monkeypatch.setattr(Readahead, "SEGMENT_BYTES", 1024)
    os.remove(tmp_path / "d" / "indices.npy")
    kw = dict(loss="log_loss", max_iter=2, tol=None, random_state=0, shuffle_block=64)
    a = fastgd.SGDClassifier(**kw).fit(Xm, ym)
    assert np.array_equal(a.coef_, fastgd.SGDClassifier(**kw).fit(X, y).coef_)


def test_an_epoch_reads_a_converted_directory_once(tmp_path):
    """Out of the page cache, a one-epoch fit (and a prediction) of a converted
    directory reads its files from disk once, and its input checks read none of X
    (scikit-learn's finite check and the index range check would: on data larger than
    memory, each a second read of the disk; the files are trusted as convert_svmlight
    checked them)."""
    n_rows, nnz_row, d = 40_000, 60, 20_000
    rng = np.random.RandomState(0)
    lines = []
    for _ in range(400):
        idx = np.sort(rng.choice(d, nnz_row, replace=False)) + 1
        lines.append(("1 " if idx[0] % 2 else "-1 ")
                     + " ".join(f"{j}:{v:.3f}" for j, v in zip(idx, rng.rand(nnz_row))))
    block = ("\n".join(lines) + "\n").encode()
    write(tmp_path / "big.svm", block * (n_rows // 400))
    convert_svmlight(tmp_path / "big.svm", tmp_path / "big")
    random_svmlight(tmp_path / "small.svm", n=300, d=d)
    convert_svmlight(tmp_path / "small.svm", tmp_path / "small")
    names = ("data", "indices", "indptr", "y")
    size = sum(os.path.getsize(tmp_path / "big" / f"{a}.npy") for a in names)
    code = f"""
        import json, os
        import fastgd
        from fastgd._backend import wait_for_numba
        from fastgd.datasets import load_mmap

        def read_bytes():
            with open("/proc/self/io") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("read_bytes"))

        out = {{}}
        for params in ({{"shuffle_block": 4096}}, {{"shuffle": False}}):
            kw = dict(loss="log_loss", max_iter=1, tol=None, random_state=0, **params)
            for _ in range(2):  # kernels for read-only arrays compiled or loaded here
                fastgd.SGDClassifier(**kw).fit(*load_mmap({str(tmp_path / "small")!r}))
                wait_for_numba()
            for name in {names!r}:  # the big directory, out of the page cache
                fd = os.open(os.path.join({str(tmp_path / "big")!r}, name + ".npy"),
                             os.O_RDONLY)
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                os.close(fd)
            X, y = load_mmap({str(tmp_path / "big")!r})
            before = read_bytes()
            fastgd.SGDClassifier(**kw)._validate_X_y(X, y, reset=True)
            out["checks"] = read_bytes() - before
            est = fastgd.SGDClassifier(**kw).fit(X, y)
            out[str(params)] = read_bytes() - before
            del X, y
        for name in {names!r}:  # a prediction of the big directory reads it once too
            fd = os.open(os.path.join({str(tmp_path / "big")!r}, name + ".npy"),
                         os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        X, y = load_mmap({str(tmp_path / "big")!r})
        before = read_bytes()
        fastgd.linear_model._rows_to_score(est, X)
        out["predict_checks"] = read_bytes() - before
        est.predict(X)
        out["predict"] = read_bytes() - before
        print(json.dumps(out))
    """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=OUTSIDE,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    read = json.loads(proc.stdout.strip().splitlines()[-1])
    checks = read.pop("checks")  # the last pass's: X's files were not read for them
    assert read.pop("predict_checks") < 0.1 * size, read
    if min(read.values()) < 0.3 * size:
        pytest.skip(f"no disk reads to count here (tmpfs?): {read}, {size} bytes")
    assert max(read.values()) < 1.3 * size and checks < 0.1 * size, (read, checks, size)
    assert read["predict"] > 0.6 * size  # it did read X from the disk


def test_block_shuffle_is_a_blockwise_permutation():
    rng = np.random.RandomState(0)
    idx = np.arange(1000, 2003)
    order = block_shuffle(rng, idx, 100)
    assert np.array_equal(np.sort(order), idx)
    blocks = (order - 1000) // 100
    assert np.count_nonzero(np.diff(blocks)) == 10  # each block visited in one run
    assert not np.array_equal(order, idx)
    assert np.array_equal(block_shuffle(np.random.RandomState(0), idx, 100), order)
    assert np.array_equal(block_shuffle(rng, idx[:0], 100), idx[:0])
    with pytest.raises(ValueError, match="block_rows"):
        block_shuffle(rng, idx, 0)


def test_shuffle_block_option():
    X, y = load("a9a")
    kw = dict(loss="log_loss", max_iter=2, tol=None, random_state=0)
    a = fastgd.SGDClassifier(shuffle_block=1000, **kw).fit(X, y)
    b = fastgd.SGDClassifier(shuffle_block=1000, **kw).fit(X, y)
    full = fastgd.SGDClassifier(**kw).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and not np.array_equal(a.coef_, full.coef_)
    assert a.score(X, y) > 0.8
    with pytest.raises(ValueError, match="shuffle_block"):
        fastgd.SGDClassifier(shuffle_block=10, solver="saga", **kw).fit(X, y)


def test_hashing_vectorizer_to_memmapped_fit(tmp_path):
    """Raw text and categorical features: scikit-learn hashes them, svmlight stores them,
    fastgd converts and fits the memory-mapped result (README example)."""
    docs = ["cheap pills now", "meeting at noon", "cheap cheap offer", "lunch at noon?"]
    y = np.array([1, -1, 1, -1] * 50)
    Xt = HashingVectorizer(n_features=2**12, alternate_sign=False).transform(docs * 50)
    Xc = FeatureHasher(n_features=2**6, input_type="string").transform(
        [["a", "b"], ["c"], ["a"], ["d", "c"]] * 50)
    X = sp.hstack([Xt, Xc], format="csr")
    dump_svmlight_file(X, y, str(tmp_path / "hashed.svm"), zero_based=True)
    convert_svmlight(tmp_path / "hashed.svm", tmp_path / "d", n_features=X.shape[1],
                     zero_based=True)
    Xm, ym = load_mmap(tmp_path / "d")
    assert Xm.shape == X.shape and (Xm != X).nnz == 0
    kw = dict(loss="log_loss", max_iter=5, tol=None, random_state=0)
    clf = fastgd.SGDClassifier(**kw).fit(Xm, ym)
    ref = fastgd.SGDClassifier(**kw).fit(X.astype(np.float64), y.astype(np.float64))
    assert np.array_equal(clf.coef_, ref.coef_) and clf.score(X, y) == 1.0


def test_progress_bar_shows_epochs_and_changes_nothing(capfd):
    X, y = load("a9a")
    kw = dict(loss="log_loss", max_iter=3, tol=None, random_state=0)
    quiet = fastgd.SGDClassifier(**kw).fit(X, y)
    assert capfd.readouterr().err == ""
    shown = fastgd.SGDClassifier(progress=True, **kw).fit(X, y)
    err = capfd.readouterr().err
    assert "3/3" in err and "objective=" in err and "samples/s" in err
    assert np.array_equal(quiet.coef_, shown.coef_)
    fastgd.SGDRegressor(progress=True, solver="svrg", max_iter=2, tol=None).fit(X, y)
    assert "2/2" in capfd.readouterr().err
