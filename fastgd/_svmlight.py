"""A streaming svmlight / libsvm parser: bounded memory, NumPy per chunk of lines.

A line is ``label idx:val idx:val ... [# comment]``; blank and comment-only lines are
skipped. Each chunk of about ``CHUNK_BYTES`` (4 MB) of text is parsed by vectorised NumPy
(plain decimals; ``np.fromstring`` for anything else, as exponents) after cheap checks
of its shape (one colon per pair, nothing glued to a colon);
only a chunk that fails them is parsed again line by line to name the offending line.
Rows are made canonical (indices sorted, duplicates summed, as scipy's
``sum_duplicates``). ``qid:`` and multi-label lines are not supported (an error).

Errors are ``ValueError("<file>:<line>: <what>")``; a truncated or corrupt compressed
file is a ``ValueError`` naming the file.
"""

import bz2
import gzip
import lzma

import numpy as np
import scipy.sparse as sp

CHUNK_BYTES = 1 << 22
INDEX_MAX = np.iinfo(np.int32).max
_SPACE = np.zeros(256, dtype=bool)
_SPACE[list(b" \t\n\r\v\f")] = True


_DIGIT = np.full(256, -1, dtype=np.int64)
_DIGIT[48:58] = np.arange(10)
_POW10 = 10.0 ** np.arange(23)
_MAX_TOKEN = 15  # mantissa below 2**53: one exact division rounds as strtod


def _simple_numbers(u, sep):
    """The numbers of the tokens of ``u`` (uint8 text; ``sep`` marks separators), when
    every token is a plain decimal ``[+-]digits[.digits]`` of at most 15 characters,
    else None. Exact: mantissa / 10**k is one correctly rounded division, as strtod."""
    tok = ~sep
    starts = np.flatnonzero(tok & np.r_[True, sep[:-1]])
    ends = np.flatnonzero(tok & np.r_[sep[1:], True]) + 1
    length = ends - starts
    if starts.size == 0 or length.max() > _MAX_TOKEN:
        return None if starts.size else np.zeros(0)
    first = u[starts]
    negative = first == 45
    pos = starts + ((first == 45) | (first == 43))
    mantissa = np.zeros(starts.shape[0], dtype=np.int64)
    n_frac = np.zeros(starts.shape[0], dtype=np.int64)
    n_dot = np.zeros(starts.shape[0], dtype=np.int64)
    n_digit = np.zeros(starts.shape[0], dtype=np.int64)
    for k in range(int((ends - pos).max())):
        live = pos + k < ends
        ch = u[np.minimum(pos + k, u.shape[0] - 1)]
        d = _DIGIT[ch]
        is_digit = live & (d >= 0)
        is_dot = live & (ch == 46)
        if np.any(live & ~is_digit & ~is_dot):
            return None
        mantissa = np.where(is_digit, mantissa * 10 + d, mantissa)
        n_frac += is_digit & (n_dot > 0)
        n_digit += is_digit
        n_dot += is_dot
    if np.any(n_dot > 1) or np.any(n_digit == 0):
        return None
    value = mantissa / _POW10[n_frac]
    return np.where(negative, -value, value)


def _colons_misplaced(text):
    """True when a colon starts or ends a token, or a token holds two colons."""
    u = np.frombuffer(text, dtype=np.uint8)
    c = np.flatnonzero(u == 58)
    if c.size == 0:
        return False
    if c[0] == 0 or c[-1] == u.shape[0] - 1:
        return True
    space = _SPACE[u]
    if space[c - 1].any() or space[c + 1].any():
        return True
    n_space = np.cumsum(space, dtype=np.int32)
    return bool(np.any(n_space[c[1:]] == n_space[c[:-1]]))
_MAGIC = [(b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open)]


def open_binary(path):
    """``path`` opened for binary reading, decompressed by its magic bytes (gz/bz2/xz)."""
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return opener(path, "rb")
    return open(path, "rb")


def _raw_chunks(path, chunk_bytes):
    """Blocks of whole lines of ``path``; truncated compressed input is a ValueError."""
    try:
        with open_binary(path) as f:
            rest = b""
            while True:
                block = f.read(chunk_bytes)
                if not block:
                    break
                block = rest + block
                cut = block.rfind(b"\n") + 1
                if cut == 0:  # one line longer than a chunk: read on
                    rest = block
                    continue
                rest = block[cut:]
                yield block[:cut]
            if rest:
                yield rest
    except (EOFError, lzma.LZMAError, gzip.BadGzipFile, OSError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile) and \
                exc.errno is not None:
            raise  # a plain I/O error (missing file, permissions): as it is
        raise ValueError(f"{path}: truncated or corrupt compressed file ({exc})") from None


class Chunk:
    """Rows parsed from one block: CSR parts (canonical, 0-based) and labels."""

    __slots__ = ("data", "indices", "indptr", "y", "max_index", "zero_based")

    def __init__(self, data, indices, indptr, y):
        self.data, self.indices, self.indptr, self.y = data, indices, indptr, y
        self.max_index = int(indices.max()) if indices.shape[0] else -1

    @property
    def n_rows(self):
        return self.y.shape[0]

    def csr(self, n_features):
        return sp.csr_matrix((self.data, self.indices, self.indptr),
                             shape=(self.n_rows, n_features))


def _slow_error(path, lines, line_no):
    """The first malformed line of a block that failed the fast checks, as a ValueError."""
    for text, no in zip(lines, line_no):
        toks = text.split()
        try:
            float(toks[0])
        except ValueError:
            raise ValueError(f"{path}:{no}: bad label {toks[0].decode(errors='replace')!r}"
                             ) from None
        for tok in toks[1:]:
            parts = tok.split(b":")
            try:
                if len(parts) != 2:
                    raise ValueError
                float(parts[0]), float(parts[1])
            except ValueError:
                raise ValueError(f"{path}:{no}: bad token {tok.decode(errors='replace')!r}"
                                 " (expected index:value)") from None
    raise ValueError(f"{path}: malformed input")  # not reached on a block that failed


def parse(path, zero_based="auto", n_features=None, chunk_bytes=CHUNK_BYTES):
    """Yield ``Chunk`` objects for the svmlight file ``path``, in file order.

    ``zero_based``: True, False, or 'auto' (one-based unless the first block holds an
    index 0; a 0 found later in a file judged one-based is an error asking for
    ``zero_based=True``). ``n_features``: indices must be below it (after the shift).
    """
    offset = None if zero_based == "auto" else (0 if zero_based else 1)
    first_line = 1
    for block in _raw_chunks(path, chunk_bytes):
        lines = block.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        n_lines = len(lines)
        if b"#" in block:
            lines = [ln.split(b"#", 1)[0] for ln in lines]
        keep = [i for i, ln in enumerate(lines) if not ln.isspace() and ln]
        line_no = np.asarray(keep, dtype=np.int64) + first_line
        lines = [lines[i] for i in keep]
        first_line += n_lines
        if not lines:
            continue
        text = b"\n".join(lines)
        if _colons_misplaced(text):
            _slow_error(path, lines, line_no)
        n_tok = np.fromiter((len(ln.split()) for ln in lines), np.int64, len(lines))
        n_colon = np.fromiter((ln.count(b":") for ln in lines), np.int64, len(lines))
        bad = np.flatnonzero(n_colon != n_tok - 1)
        if bad.size:  # a bare number after the label, or a glued label
            _slow_error(path, [lines[bad[0]]], line_no[bad[:1]])
        u = np.frombuffer(text, dtype=np.uint8)
        numbers = _simple_numbers(u, _SPACE[u] | (u == 58))
        if numbers is None:  # exponents, nan, long tokens: NumPy's parser
            try:
                numbers = np.fromstring(text.replace(b":", b" "), dtype=np.float64,
                                        sep=" ")
            except ValueError:  # NumPy >= 2.3: a token that is not a number
                numbers = None
        if numbers is None or numbers.shape[0] != int(n_tok.sum() + n_colon.sum()):
            _slow_error(path, lines, line_no)
        chunk, offset = _chunk(path, numbers, n_colon, line_no, offset, n_features)
        chunk.zero_based = offset == 0
        yield chunk


def _chunk(path, numbers, nnz_row, line_no, offset, n_features):
    """Validate the numbers of one block; its canonical ``Chunk`` and the index offset
    (``None`` on entry: decided here, from this block)."""
    starts = np.zeros(nnz_row.shape[0], dtype=np.int64)
    np.cumsum(2 * nnz_row[:-1] + 1, out=starts[1:])
    y = numbers[starts]
    is_pair = np.ones(numbers.shape[0], dtype=bool)
    is_pair[starts] = False
    pairs = numbers[is_pair].reshape(-1, 2)
    raw_idx, data = pairs[:, 0], np.ascontiguousarray(pairs[:, 1])
    indptr = np.zeros(nnz_row.shape[0] + 1, dtype=np.int64)
    np.cumsum(nnz_row, out=indptr[1:])

    def fail(pos, what):
        row = int(np.searchsorted(indptr, pos, side="right")) - 1
        raise ValueError(f"{path}:{line_no[row]}: {what}")

    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValueError(f"{path}:{line_no[bad[0]]}: label is {y[bad[0]]} (NaN and "
                         "infinity are not allowed)")
    bad = np.flatnonzero(~np.isfinite(data))
    if bad.size:
        fail(bad[0], f"value {data[bad[0]]} (NaN and infinity are not allowed)")
    bad = np.flatnonzero((raw_idx != np.floor(raw_idx)) | (raw_idx < 0)
                         | (raw_idx > INDEX_MAX))
    if bad.size:
        fail(bad[0], f"feature index {raw_idx[bad[0]]:g} is not an integer in "
                     f"[0, {INDEX_MAX}]")
    if offset is None:  # zero_based='auto', decided by the first block
        offset = 0 if (raw_idx.shape[0] and raw_idx.min() == 0) else 1
    if offset:
        bad = np.flatnonzero(raw_idx == 0)
        if bad.size:
            fail(bad[0], "feature index 0 in a one-based file (indices start at 1; "
                         "pass zero_based=True if this file is zero-based)")
    indices = raw_idx.astype(np.int32) - np.int32(offset)
    if n_features is not None:
        bad = np.flatnonzero(indices >= n_features)
        if bad.size:
            fail(bad[0], f"feature index {raw_idx[bad[0]]:g} is beyond n_features="
                         f"{n_features}")
    chunk = Chunk(data, indices, indptr, y)
    step = np.diff(indices)
    inner = np.ones(step.shape[0], dtype=bool)
    ends = indptr[1:-1]
    inner[ends[(ends > 0) & (ends < data.shape[0])] - 1] = False  # a row's last entry
    if np.any(step[inner] <= 0):  # unsorted or repeated indices: canonicalise
        X = chunk.csr(chunk.max_index + 1)
        X.sum_duplicates()
        chunk = Chunk(X.data, X.indices.astype(np.int32),
                      X.indptr.astype(np.int64), y)
    return chunk, offset
