"""What the single-source kernels need from Numba, when they run as Numba (or Python).

Every kernel family is one Python file, ``kernels/_nb_<family>.py``, in the subset of
Python that Numba compiles; the Cython build compiles the same file (see setup.py and
``_nb_common.py``). The names below are what the file gets here under Numba; the Cython
build gets its own from the ``.pxd`` that augments the file (C types, ``prefetch``,
``prange``, the ids) and from the ``cython.compiled`` branch of the file's header.

- ``njit(**options)``: ``numba.njit``; with ``entry=...`` it marks a Python-level entry:

  * ``entry=True``: a ``def`` that only releases the GIL around its body ``_<name>`` (the
    Cython build makes it a ``cpdef`` whose ``with cython.nogil:`` block calls the
    ``cdef ... nogil`` body). Under Numba that wrapper is not compiled (a ``with``
    block that does nothing makes Numba recurse): the entry *is* the jitted body
    ``_<name>``, which takes the same parameters and releases the GIL itself
    (``nogil=True``). So ``fastgd.kernels._nb_sgd.plain_sgd_epoch`` stays a Numba
    dispatcher (``.signatures``, ``.stats``, ``.py_func``).
  * ``entry="python"``: an entry that stays Python on both backends (it allocates the
    per-call scratch that the compiled body must not allocate, then calls it).
- ``prange``: ``numba.prange``.
- ``prefetch(array, index)``: LLVM's prefetch hint (below).
- ``_to_index(x)``: ``int(x)`` (Cython: a C cast), for counts kept in float64 scratch.
- ``_set_team(k)``: nothing (Cython: OpenMP teams of k threads during a call; only the
  Cython entries call it, and Numba keeps its own thread pool).
- ``cython``: a stand-in for the ``cython`` module when Cython is not installed (it is a
  build requirement only): ``compiled`` is False and ``nogil`` a context manager that
  does nothing.

The table. The kernels freeze the ids and constants of ``fastgd/_rules.py`` into their
compiled code, and Numba's on-disk cache is keyed on each kernel file's own time stamp,
not on what it imports: after the table changes (a new slot, a reordered record) a
cached kernel would read the wrong slots. ``_drop_stale_cache`` keeps a digest of the
table beside the cache and empties the cache when the digest differs.

Prefetch. SGD visits rows in random order, and each row is a chain of cache misses
that the CPU cannot start early because every step depends on the previous one through
``w``. Asking for the next rows' cache lines a couple of samples ahead overlaps those
misses with the current step (measured: about a third off a shuffled sparse epoch).
The row pointers, label and weight of a sample are scattered reads too, and an
unprefetched row pointer stalls the prefetch of its row: requesting them a stage
earlier (2026-12-04) took a shuffled covtype epoch (581k rows, data beyond the L3
cache) from 111 to 50 ms for plain SGD and from 341 to 83 ms for SAGA, which had no
prefetch at all before. It changes no result.
"""

import contextlib
import glob
import hashlib
import inspect
import os
import types as _pytypes

import numba
import numpy as np
from llvmlite import ir
from numba import config, prange, types  # noqa: F401  (prange: re-exported)
from numba.core import cgutils
from numba.extending import intrinsic

cython = _pytypes.SimpleNamespace(compiled=False, nogil=contextlib.nullcontext())


def _drop_stale_cache():
    """Empty the kernels' Numba cache when ``fastgd/_rules.py``'s table or any kernel
    source changed: Numba checks only the timestamp of a function's own file, so a
    kernel that inlines a changed helper of ``_nb_common.py`` would load stale code."""
    from fastgd import _rules

    table = sorted((k, v) for k, v in vars(_rules).items()
                   if k.isupper() and isinstance(v, (int, float)))
    h = hashlib.blake2b(repr(table).encode(), digest_size=16)
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "_nb_*.py"))):
        with open(path, "rb") as f:
            h.update(f.read())
    digest = h.hexdigest()
    cache = (os.path.join(config.CACHE_DIR, "") if config.CACHE_DIR else
             os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__"))
    stamp = os.path.join(cache, "fastgd-table.digest")
    try:
        with open(stamp) as f:
            if f.read() == digest:
                return
    except OSError:
        pass
    try:
        for path in glob.glob(os.path.join(cache, "**", "_nb_*.nb[ic]"), recursive=True):
            os.remove(path)
        os.makedirs(cache, exist_ok=True)
        with open(stamp, "w") as f:
            f.write(digest)
    except OSError:  # a read-only installation: Numba then caches elsewhere or not
        pass


_drop_stale_cache()


def _body_of(entry):
    """The jitted body ``_<name>`` of a Python-level entry (same parameter names)."""
    body = entry.__globals__.get("_" + entry.__name__)
    if body is None:
        raise TypeError(f"entry {entry.__name__} has no body _{entry.__name__}")
    params = list(inspect.signature(entry).parameters)
    got = list(inspect.signature(getattr(body, "py_func", body)).parameters)
    if got != params:
        raise TypeError(f"entry {entry.__name__}{params} and its body differ: {got}")
    if entry.__doc__:
        body.__doc__ = entry.__doc__  # help() shows the entry's documentation
    return body


def njit(entry=None, **options):
    """``numba.njit(**options)``, or the decorator of a Python-level entry (see above)."""
    if entry is None:
        return numba.njit(**options)
    if entry == "python":
        return lambda f: f
    if entry is True:
        return _body_of
    raise ValueError(f"entry must be None, True or 'python'; got {entry!r}")


@numba.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _to_index(x):
    return int(x)


@numba.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _u(i):
    """An index known to be >= 0, as uint64: Numba then drops its negative-index
    wraparound (measured: a CSR dot product or axpy about 30 % faster). Only for
    indexing, never arithmetic (uint64 with int64 gives float64 in Numba)."""
    return np.uint64(i)


def _set_team(k):
    return k


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint that ``arr[idx]`` will be read soon (read, high locality, data cache)."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


if config.DISABLE_JIT:  # kernels run as Python (coverage runs): the hint is a no-op
    @numba.njit
    def prefetch(arr, idx):  # noqa: F811
        """No-op stand-in used when NUMBA_DISABLE_JIT=1."""
