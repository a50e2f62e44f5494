# C declarations of kernels/_nb_common.py for the Cython build (pure-Python mode).
#
# setup.py compiles each kernel family as _cy_<family>.py = _nb_common.py + _nb_<family>.py
# with _cy_<family>.pxd = this file + _nb_<family>.pxd (see _nb_common.py). Everything here
# is a declaration of a name that the .py defines, except the C-only shims: the ids
# (_ids.pxi, generated from fastgd/_rules.py), libc.math, prefetch and OPENMP.

cimport cython
from cython cimport floating
from libc.math cimport exp, log, log1p, pow, sqrt, fabs
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t

include "_ids.pxi"

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define FASTGD_PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 3)
    #else
    #define FASTGD_PREFETCH(p) ((void)0)
    #endif
    #ifdef _OPENMP
    #define FASTGD_OPENMP 1
    #else
    #define FASTGD_OPENMP 0
    #endif
    """
    void FASTGD_PREFETCH(const void *p) noexcept nogil
    int FASTGD_OPENMP

ctypedef fused _prefetched:
    float
    double
    int32_t


cdef inline void prefetch(const _prefetched[:] a, Py_ssize_t i) noexcept nogil:
    """The Cython side of _nb_shim.prefetch: hint that a[i] will be read soon."""
    FASTGD_PREFETCH(&a[i])


cdef inline Py_ssize_t _to_index(double x) noexcept nogil:
    """The Cython side of _nb_shim._to_index: a count kept in a float64 scratch slot."""
    return <Py_ssize_t>x


cdef double MAX_DLOSS
cdef double _WSCALE_MIN
cdef Py_ssize_t PREFETCH_ROWS
cdef Py_ssize_t PREFETCH_W
cdef Py_ssize_t PREFETCH_W_MIN
cdef Py_ssize_t _ROUND_STEPS
cdef double _SHRINK_KEEP

cdef inline double _log1pexp(double x) noexcept nogil
cdef double _loss_value(int loss, double y, double p, double param) noexcept nogil
cdef double _loss_dloss(int loss, double y, double p, double param) noexcept nogil
cdef inline double _clip_dloss(double d) noexcept nogil
cdef inline double _soft(double x, double th) noexcept nogil

cdef inline (Py_ssize_t, Py_ssize_t) _row(const int64_t[:] indptr, Py_ssize_t dense_d,
                                         Py_ssize_t i) noexcept nogil
cdef inline Py_ssize_t _col(const int32_t[:] indices, Py_ssize_t dense_d, Py_ssize_t start,
                            Py_ssize_t k) noexcept nogil
@cython.locals(k=Py_ssize_t)
cdef inline double _row_dot(const floating[:] data, const int32_t[:] indices,
                            Py_ssize_t dense_d, Py_ssize_t start, Py_ssize_t end,
                            const double[:] w) noexcept nogil
@cython.locals(k=Py_ssize_t)
cdef inline void _row_axpy(const floating[:] data, const int32_t[:] indices,
                           Py_ssize_t dense_d, Py_ssize_t start, Py_ssize_t end, double c,
                           double[:] v) noexcept nogil
@cython.locals(k=Py_ssize_t, j=Py_ssize_t)
cdef inline (double, double) _row_add_norms(const floating[:] data,
                                            const int32_t[:] indices, Py_ssize_t dense_d,
                                            Py_ssize_t start, Py_ssize_t end, double cw,
                                            double[:] w) noexcept nogil
@cython.locals(m=Py_ssize_t, nxt=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t,
               k=Py_ssize_t, r=Py_ssize_t)
cdef inline void _prefetch_row(const floating[:] data, const int32_t[:] indices,
                               const int64_t[:] indptr, Py_ssize_t dense_d,
                               const int64_t[:] order, Py_ssize_t ii,
                               const double[:] w) noexcept nogil
cdef inline double _step_size(int schedule, double eta, double eta0, double power_t,
                              double alpha, double optimal_init, double t) noexcept nogil

@cython.locals(k=Py_ssize_t)
cdef inline bint _busy(const double[:, :] tstate, Py_ssize_t K, Py_ssize_t cpos,
                       Py_ssize_t chi) noexcept nogil
@cython.locals(k=Py_ssize_t, g=double)
cdef inline double _reduced(double[:, :] gbuf, Py_ssize_t K, Py_ssize_t j) noexcept nogil
