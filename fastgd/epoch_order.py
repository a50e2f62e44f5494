"""Epoch orders for data read from disk: a block-wise shuffle.

A full permutation visits rows in random order, so an epoch over a memory-mapped CSR
larger than the page cache reads the disk at random, a page per row. ``block_shuffle``
shuffles blocks of ``block_rows`` consecutive rows, then the rows inside each block:
the reads of one block stay within a contiguous stretch of the file (which the page
cache holds), and the blocks are read whole, one after another.

Statistical price: a sample's neighbours in an epoch come from the same block, so
consecutive steps are correlated whenever the file is ordered (by time, by label, by
source). With rows in random order on disk it costs nothing; with a file sorted by
label, a block holds a single class and SGD drifts towards it block by block. The
benchmark ``benchmarks/bench_ooc.py`` measures the objective after k epochs against a
full shuffle (README, "Out-of-core data").

``Readahead`` keeps the disk busy while the kernel computes: an epoch over memory-mapped
rows runs in segments, and a background thread asks Linux for the file pages of the
rows a few segments ahead (``POSIX_FADV_WILLNEED``). Page faults alone read a little at
a time around where the kernel already waits, and in a block-wise order they read
about a fifth more than the data under memory pressure (``benchmarks/bench_ooc.py``).
"""

import concurrent.futures
import mmap
import os

import numpy as np

MADV_COLD = getattr(mmap, "MADV_COLD", 20)  # Linux's value; Python does not name it


def block_shuffle(rng, idx, block_rows):
    """``idx`` in block-wise shuffled order: the blocks of ``block_rows`` consecutive
    entries in a random order, each block's entries permuted; draws from ``rng``."""
    block_rows = int(block_rows)
    if block_rows < 1:
        raise ValueError(f"block_rows must be >= 1; got {block_rows}")
    idx = np.asarray(idx)
    starts = np.arange(0, idx.shape[0], block_rows)
    return np.concatenate([rng.permutation(idx[s:s + block_rows])
                           for s in rng.permutation(starts)] or [idx[:0]])


class Readahead:
    """Segments of an epoch's order, with the file pages of the next ones read ahead.

    ``Readahead.of(data, indices, indptr, y)`` is None unless the CSR arrays are
    file-backed memory maps (``fastgd.datasets.load_mmap``) on a system with
    ``posix_fadvise``. ``segments(order)`` yields ``(a, b)``: the caller runs
    ``order[a:b]``, one kernel call each (the same steps as one call for the whole
    order, see ``plain_sgd_steps``). Before it yields a segment, the byte ranges of
    ``data``, ``indices`` and ``y`` of the rows up to ``AHEAD_BYTES`` further on
    have been handed to a background thread that asks the kernel to read them
    (``POSIX_FADV_WILLNEED``, in pieces: Linux reads at most its readahead window per
    call), so the disk works while the kernel computes. Rows less than ``GAP_BYTES``
    apart are read with what lies between them (a block of a block-wise shuffle).
    An order that walks the file forwards is one segment: Linux's own readahead
    serves its page faults as well. Rows scattered over the file (a full shuffle: a
    stretch longer than ``MAX_SPAN_BYTES``, or ``MAX_RUNS`` stretches in one segment)
    are left to page faults. Rows no later segment reads are marked ``MADV_COLD``:
    the first pages to go when memory runs short, kept (a later epoch reads them from
    memory) while it does not.
    """

    SEGMENT_BYTES = 4 << 20  # of row data (values and indices) per kernel call
    AHEAD_BYTES = 64 << 20  # asked for beyond the segment being run
    GAP_BYTES = 1 << 20  # rows this close are read together
    MAX_SPAN_BYTES = 256 << 20
    MAX_RUNS = 16  # stretches per segment
    CHUNK_BYTES = 2 << 20  # per posix_fadvise call

    def __init__(self, arrays, indptr):
        # arrays: (memmap, one entry per row?, offset of its first byte in its mmap)
        self.arrays, self.indptr = arrays, indptr
        self.nnz_bytes = sum(a.itemsize for a, per_row, _ in arrays if not per_row)
        n_rows = indptr.shape[0] - 1
        self.bytes_per_row = self.nnz_bytes * max(int(indptr[-1]), 1) / max(n_rows, 1)
        # rows are grouped in buckets of about GAP_BYTES: the unit of what is asked for
        self.bucket_rows = max(1, int(self.GAP_BYTES / max(self.bytes_per_row, 1.0)))
        self.marks = np.zeros(n_rows // self.bucket_rows + 3, dtype=bool)

    @classmethod
    def of(cls, data, indices, indptr, y):
        if not hasattr(os, "posix_fadvise"):
            return None
        arrays = []
        for arr in (data, indices, y):
            if getattr(arr, "_mmap", None) is None or not getattr(arr, "filename", None):
                if arr is y:
                    continue  # y read into memory: nothing to ask for
                return None
            at = arr.ctypes.data - np.frombuffer(arr._mmap, dtype=np.uint8).ctypes.data
            arrays.append((arr, arr is y, at))
        return cls(arrays, indptr)

    def segments(self, order):
        n = order.shape[0]
        fds = []
        if n > 1 and not np.all(order[1:] > order[:-1]):
            try:
                for arr, _, _ in self.arrays:
                    fds.append(os.open(arr.filename, os.O_RDONLY))
            except OSError:  # a file renamed or removed since it was mapped
                for fd in fds:
                    os.close(fd)
                fds = []
        if not fds:
            yield 0, n  # storage order: Linux's own readahead serves its faults
            return
        row_bytes = max(self.bytes_per_row, 1.0)
        step = max(256, int(self.SEGMENT_BYTES / row_bytes))
        ahead = max(1, int(self.AHEAD_BYTES / (step * row_bytes)))
        live = []  # [lo, hi, last segment reading them] of the rows asked for
        reader = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="fastgd-readahead")
        try:
            requested = 0  # segments [0, requested) were asked for
            for k, a in enumerate(range(0, n, step)):
                while requested * step < min(n, a + (ahead + 1) * step):
                    self._request(order[requested * step:(requested + 1) * step],
                                  requested, fds, live, reader)
                    requested += 1
                yield a, min(a + step, n)
                self._release(k, live, reader)
        finally:
            reader.shutdown(wait=True, cancel_futures=True)
            for fd in fds:
                os.close(fd)

    def _request(self, rows, segment, fds, live, reader):
        """Ask ``reader`` to read the stretches of ``rows`` not in ``live`` yet."""
        buckets = rows // self.bucket_rows + 1
        marks = self.marks
        marks[buckets] = True
        edges = np.flatnonzero(marks[1:] != marks[:-1])  # run starts and ends (buckets)
        marks[buckets] = False
        if edges.shape[0] > 2 * self.MAX_RUNS:
            return  # rows scattered over the file (a full shuffle): left to page faults
        n_rows = self.indptr.shape[0] - 1
        for b0, b1 in zip(edges[::2], edges[1::2]):
            lo, hi = int(b0) * self.bucket_rows, min(int(b1) * self.bucket_rows, n_rows)
            for run in live:  # only what was not asked for yet
                if run[0] < hi and lo < run[1]:
                    run[2] = segment  # still read then
                if run[0] <= lo < run[1]:
                    lo = run[1]
                if run[0] < hi <= run[1]:
                    hi = run[0]
            if lo >= hi:
                continue
            if (self.indptr[hi] - self.indptr[lo]) * self.nnz_bytes > self.MAX_SPAN_BYTES:
                continue  # rows scattered over the file: left to page faults
            live.append([lo, hi, segment])
            reader.submit(self._read, self._byte_ranges(lo, hi, fds))

    def _release(self, done, live, reader):
        """Mark the rows no segment after ``done`` reads as the first to evict."""
        for run in [r for r in live if r[2] <= done]:
            live.remove(run)
            reader.submit(self._cool, self._byte_ranges(run[0], run[1]))

    def _byte_ranges(self, lo, hi, fds=None):
        """(fd, begin, end) of rows [lo, hi) in each mapped array's file (``fds``), or
        without them (mmap, begin, end) in its mapping (page-aligned begin)."""
        file_offsets = fds is not None
        nz0, nz1 = int(self.indptr[lo]), int(self.indptr[hi])
        out = []
        for fd, (arr, per_row, at) in zip(fds or [None] * len(self.arrays), self.arrays):
            start, stop = (lo, hi) if per_row else (nz0, nz1)
            if file_offsets:  # numpy maps from the offset rounded down to a granule
                at += arr.offset - arr.offset % mmap.ALLOCATIONGRANULARITY
            begin, end = at + start * arr.itemsize, at + stop * arr.itemsize
            if not file_offsets:
                begin -= begin % mmap.PAGESIZE
            if end > begin:
                out.append((fd if file_offsets else arr._mmap, begin, end))
        return out

    @staticmethod
    def _cool(ranges):
        for mm, begin, end in ranges:
            try:
                mm.madvise(MADV_COLD, begin, end - begin)
            except (AttributeError, OSError, ValueError):
                return  # a hint only (MADV_COLD: Linux 5.4 and newer)

    def _read(self, ranges):
        for fd, begin, end in ranges:
            for at in range(begin, end, self.CHUNK_BYTES):
                os.posix_fadvise(fd, at, min(self.CHUNK_BYTES, end - at),
                                 os.POSIX_FADV_WILLNEED)
