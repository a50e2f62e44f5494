# C declarations of kernels/_nb_common.py for the Cython build (pure-Python mode).
#
# setup.py compiles each kernel family as _cy_<family>.py = _nb_common.py + _nb_<family>.py
# with _cy_<family>.pxd = this file + _nb_<family>.pxd (see _nb_common.py). Everything here
# is a declaration of a name that the .py defines, except the C-only shims: the ids
# (_ids.pxi, generated from fastgd/_rules.py), libc.math, prefetch and OPENMP.

cimport cython
from cython cimport floating
from libc.math cimport cos, exp, floor, log, log1p, pow, sqrt, fabs
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

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int fastgd_set_team(int k) {
        int old = omp_get_max_threads();
        omp_set_num_threads(k);
        return old;
    }
    #else
    static int fastgd_set_team(int k) { return k; }
    #endif
    """
    int fastgd_set_team(int k) noexcept nogil


cdef inline Py_ssize_t _set_team(Py_ssize_t k) noexcept nogil:
    """OpenMP teams of k threads from the calling thread on; returns the previous size.

    The Cython entries of the n_jobs > 1 kernels run their body with a team of exactly
    as many threads as it has prange iterations, then restore the caller's setting
    (Cython's prange(num_threads=...) has no Numba spelling; Numba keeps its pool).
    """
    return fastgd_set_team(<int>k)

ctypedef fused _prefetched:
    float
    double
    int32_t
    int64_t


cdef inline void prefetch(const _prefetched[:] a, Py_ssize_t i) noexcept nogil:
    """The Cython side of _nb_shim.prefetch: hint that a[i] will be read soon."""
    FASTGD_PREFETCH(&a[i])


cdef inline size_t _u(Py_ssize_t i) noexcept nogil:
    """The Cython side of _nb_shim._u (wraparound is off here anyway)."""
    return <size_t>i


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
cdef double _PI

cdef inline double _log1pexp(double x) noexcept nogil
cdef double _loss_value(int loss, double y, double p, double param) noexcept nogil
cdef double _loss_dloss(int loss, double y, double p, double param) noexcept nogil
@cython.locals(y01=double, e=double)
cdef inline (double, double) _loss_and_dloss(int loss, double y, double p,
                                             double param) noexcept nogil
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
@cython.locals(k=Py_ssize_t, p=double, xx=double, ww=double, x=double, wj=double)
cdef inline (double, double, double) _row_dot_norms(const floating[:] data,
                                                    const int32_t[:] indices,
                                                    Py_ssize_t dense_d, Py_ssize_t start,
                                                    Py_ssize_t end,
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
@cython.locals(dv=double, m=Py_ssize_t, k=Py_ssize_t)
cdef inline (double, Py_ssize_t) _movers(double[:, :, :] rep, Py_ssize_t s, Py_ssize_t j,
                                         Py_ssize_t K, double ref) noexcept nogil
@cython.locals(z=double, v=double)
cdef inline void _l1_clip(double[:] w, double[:] q, Py_ssize_t j, double u,
                          double wscale) noexcept nogil
@cython.locals(m=Py_ssize_t, nxt=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t,
               k=Py_ssize_t, r=Py_ssize_t)
cdef inline void _prefetch_row(const floating[:] data, const int32_t[:] indices,
                               const int64_t[:] indptr, Py_ssize_t dense_d,
                               const double[:] y, const double[:] sw,
                               const int64_t[:] order, Py_ssize_t ii,
                               const double[:] w) noexcept nogil
cdef inline double _cosine(double start, double end, double x) noexcept nogil
@cython.locals(k=double, p0=double, p1=double, p2=double, p3=double, e=double,
               cycle=double, x=double, amp=double, period=double)
cdef double _scheduled(int schedule, const double[:] fp, double t) noexcept nogil
@cython.locals(warmup=double, scale=double, eta=double)
cdef inline double _step_size(int schedule, const double[:] fp, double t) noexcept nogil

@cython.locals(k=Py_ssize_t)
cdef inline bint _busy(const double[:, :] tstate, Py_ssize_t K, Py_ssize_t cpos,
                       Py_ssize_t chi) noexcept nogil
@cython.locals(k=Py_ssize_t, g=double)
cdef inline double _reduced(double[:, :] gbuf, Py_ssize_t K, Py_ssize_t j) noexcept nogil

# ------------------------------------------------------------------ the rules
cdef inline void _momentum_step(Py_ssize_t j, double g, double[:] w, double[:, :] state,
                                double eta, const double[:] hp) noexcept nogil
cdef inline void _adagrad_step(Py_ssize_t j, double g, double[:] w, double[:, :] state,
                               double eta, const double[:] hp) noexcept nogil
cdef inline void _rmsprop_step(Py_ssize_t j, double g, double[:] w, double[:, :] state,
                               double eta, const double[:] hp) noexcept nogil
cdef inline void _adadelta_step(Py_ssize_t j, double g, double[:] w, double[:, :] state,
                                double eta, const double[:] hp) noexcept nogil
cdef inline double _first_moment(Py_ssize_t j, double g, double[:, :] state,
                                 const double[:] hp) noexcept nogil
cdef inline double _second_moment(Py_ssize_t j, double g, double[:, :] state,
                                  const double[:] hp) noexcept nogil
cdef inline void _adam_step(Py_ssize_t j, double g, double[:] w, double[:, :] state,
                            double eta, const double[:] hp, double c1,
                            double c2) noexcept nogil
cdef inline void _adamax_step(Py_ssize_t j, double g, double[:] w, double[:, :] state,
                              double eta, const double[:] hp, double c1) noexcept nogil
cdef inline void _nadam_step(Py_ssize_t j, double g, double[:] w, double[:, :] state,
                             double eta, const double[:] hp, double c1, double c2,
                             double c1n) noexcept nogil
cdef inline void _amsgrad_step(Py_ssize_t j, double g, double[:] w, double[:, :] state,
                               double eta, const double[:] hp, double c1,
                               double c2) noexcept nogil
cdef inline void _apply_rule(int rule, Py_ssize_t j, double g, double[:] w,
                             double[:, :] state, double eta, const double[:] hp, double c1,
                             double c2, double c1n) noexcept nogil
cdef inline void _coordinate(int rule, Py_ssize_t j, double gl, double a2, double[:] w,
                             double[:, :] state, double eta, const double[:] hp, double c1,
                             double c2, double c1n) noexcept nogil
cdef inline Py_ssize_t _coord_index(const int64_t[:] klist, bint use_list,
                                    Py_ssize_t kk) noexcept nogil
cdef inline void _coord_done(Py_ssize_t j, double[:] gbuf, uint8_t[:] mark,
                             bint use_list) noexcept nogil
@cython.locals(kk=Py_ssize_t, j=Py_ssize_t, g=double)
cdef inline void _sweep(int rule, Py_ssize_t lo, Py_ssize_t hi, bint use_list, const int64_t[:] klist,
                        double[:] gbuf, uint8_t[:] mark, double[:] w, double[:, :] state,
                        const double[:] hp, double a2, double eta, double c1, double c2,
                        double c1n) noexcept nogil
@cython.locals(z=double, nz=double)
cdef inline void _l1_truncate(double[:] w, double[:] q, Py_ssize_t j, double u,
                              double scale) noexcept nogil
@cython.locals(g_int=double, nk=Py_ssize_t, ii=Py_ssize_t, i=Py_ssize_t, c=double,
               start=Py_ssize_t, end=Py_ssize_t, k=Py_ssize_t, j=Py_ssize_t, p=double)
cdef inline (double, double, Py_ssize_t) _batch_gradient(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    Py_ssize_t dense_d, const double[:] y, const double[:] sw, const int64_t[:] order,
    Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t nb, const double[:] w,
    const double[:, :] state, bint nag, double gamma, double scale, double b_int,
    int loss, double param, bint all_coords, bint use_list, double[:] gbuf,
    uint8_t[:] mark, int64_t[:] klist, double loss_sum) noexcept nogil
@cython.locals(kk=Py_ssize_t, j=Py_ssize_t)
cdef inline void _update(int rule, Py_ssize_t lo, Py_ssize_t hi, bint use_list,
                         bint scaled, const int64_t[:] klist, double[:] gbuf,
                         uint8_t[:] mark, double[:] w, double[:, :] state, double[:] q,
                         const double[:] hp, double a1, double a2, double u, double eta,
                         double c1, double c2, double c1n, double scale) noexcept nogil

@cython.locals(dense_d=Py_ssize_t, loss=int, param=double, d=Py_ssize_t, b=double,
               loss_sum=double, g_int=double, ii=Py_ssize_t, i=Py_ssize_t,
               start=Py_ssize_t, end=Py_ssize_t, p=double, c=double, li=double,
               di=double)
cdef double _gradient_pass(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, const double[:] y, const double[:] sw,
                           const int64_t[:] order, Py_ssize_t lo, Py_ssize_t hi,
                           const double[:] w, const int64_t[:] ip, const double[:] fp,
                           double[:] gbuf) noexcept nogil

@cython.locals(d=Py_ssize_t, a=Py_ssize_t, b=Py_ssize_t, ja=Py_ssize_t, xa=double)
cdef inline void _gram_add(const floating[:] data, const int32_t[:] indices,
                           Py_ssize_t dense_d, Py_ssize_t start, Py_ssize_t end, double c,
                           double[:, :] H) noexcept nogil
@cython.locals(d=Py_ssize_t, b=double, ii=Py_ssize_t, i=Py_ssize_t, start=Py_ssize_t,
               end=Py_ssize_t, p=double, e=double, c=double)
cdef void _logistic_hessian_rows(const floating[:] data, const int32_t[:] indices,
                                 const int64_t[:] indptr, Py_ssize_t dense_d,
                                 const int64_t[:] order, Py_ssize_t lo, Py_ssize_t hi,
                                 const double[:] sw, const double[:] w,
                                 double[:, :] H) noexcept nogil

# ------------------------------------------ gradient noise and clipping (SPEC 7)
cdef int64_t _M32
cdef double _TWO_M32
cdef inline int64_t _mix32(int64_t x) noexcept nogil
@cython.locals(ti=int64_t)
cdef inline int64_t _noise_key(int64_t seed, double t) noexcept nogil
cdef double _TWO_M24
cdef const double[::1] _ZIG_X
cdef const double[::1] _ZIG_F
cdef double _ZIG_R
cdef inline int64_t _next32(int64_t h) noexcept nogil
@cython.locals(i=Py_ssize_t, neg=bint, x=double, a=double, b=double)
cdef double _gauss_slow(int64_t h) noexcept nogil
@cython.locals(h=int64_t, i=Py_ssize_t, x=double)
cdef inline double _gauss(int64_t key, int64_t j) noexcept nogil
cdef inline double _noise_sd(const double[:] fp, double t) noexcept nogil
cdef inline bint _tools_on(const double[:] fp) noexcept nogil
cdef inline double _clipped(double g, double clip_value) noexcept nogil
cdef inline double _tooled_one(double g, double sd, int64_t key, Py_ssize_t j,
                               double clip_value) noexcept nogil
@cython.locals(sq=double, kk=Py_ssize_t, j=Py_ssize_t, g=double)
cdef inline double _tooled_pass(bint nag, bint decoupled, Py_ssize_t lo, Py_ssize_t hi,
                                bint use_list, const int64_t[:] klist, double[:] gbuf,
                                const double[:] w, const double[:, :] state, double gamma,
                                double a2, double sd, int64_t key,
                                double clip_value) noexcept nogil
@cython.locals(nag=bint, decoupled=bint, gamma=double, j=Py_ssize_t)
cdef inline double _tooled(int rule, Py_ssize_t lo, Py_ssize_t hi, bint use_list,
                           const int64_t[:] klist, double[:] gbuf, const double[:] w,
                           const double[:, :] state, const double[:] hp, double a2,
                           double sd, int64_t key, double clip_value) noexcept nogil
cdef inline double _norm_factor(double sq, double clip_norm) noexcept nogil
@cython.locals(sq=double, k=Py_ssize_t, j=size_t, g=double)
cdef inline double _tooled_sq(const floating[:] data, const int32_t[:] indices,
                              Py_ssize_t dense_d, Py_ssize_t start, Py_ssize_t end,
                              double c, double a2, const double[:] w, double[:] gbuf,
                              double sd, int64_t key, double clip_value) noexcept nogil
@cython.locals(sq=double, k=Py_ssize_t, g=double)
cdef inline double _clipped_sq(const floating[:] data, const int32_t[:] indices,
                               Py_ssize_t dense_d, Py_ssize_t start, Py_ssize_t end,
                               double c, double a2, const double[:] w,
                               double clip_value) noexcept nogil
@cython.locals(k=Py_ssize_t, j=size_t, g=double)
cdef inline void _clipped_step(const floating[:] data, const int32_t[:] indices,
                               Py_ssize_t dense_d, Py_ssize_t start, Py_ssize_t end,
                               double c, double a2, double[:] w, double clip_value,
                               double f, double eta) noexcept nogil
@cython.locals(g=double)
cdef inline void _tooled_coordinate(size_t j, double x, double c, double a2, double[:] w,
                                    double[:] q, double[:] gbuf, double sd, int64_t key,
                                    double clip_value, bint kept, double f, double eta,
                                    double a1, double u) noexcept nogil
@cython.locals(i=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t, p=double, c=double,
               g_int=double, f=double, sq=double, kept=bint, k=Py_ssize_t, fused=bint,
               xx=double, ww=double, xw=double)
cdef inline double _sgd_tooled_step(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    Py_ssize_t dense_d, const double[:] y, const double[:] sw, const int64_t[:] order,
    Py_ssize_t ii, double[:] w, double[:] q, double[:] wi, double[:] gbuf, int loss,
    double param, double a1, double a2, double u, double eta, double sd, int64_t key,
    double clip_value, double clip_norm, bint fit_intercept,
    double loss_sum) noexcept nogil
@cython.locals(kk=Py_ssize_t, j=Py_ssize_t)
cdef inline void _rescale(Py_ssize_t lo, Py_ssize_t hi, bint use_list,
                          const int64_t[:] klist, double[:] gbuf, double f) noexcept nogil

@cython.locals(b1=double)
cdef inline (double, double, double) _corrections(int rule, const double[:] hp,
                                                  double t) noexcept nogil
@cython.locals(j=Py_ssize_t)
cdef inline double _shrunk(double scale, double eta, double a2, double[:] w,
                           Py_ssize_t n_features, double reset) noexcept nogil

# ------------------------------------------------- the steps of solver='sgd'
@cython.locals(dense_d=Py_ssize_t, loss=int, penalty=int, schedule=int, average=long,
               fit_intercept=bint, track_objective=bint, param=double, alpha=double,
               l1_ratio=double, intercept_decay=double, t0=double, wscale=double,
               avg_a=double, avg_b=double, u=double, sq_norm=double, l1_norm=double,
               intercept=double, avg_intercept=double, objective_sum=double,
               n_features=Py_ssize_t, has_l1=bint, ii=Py_ssize_t, t=double, eta_t=double,
               c=double, i=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t, p=double,
               yi=double, nrm=double, update=double, f=double, j=Py_ssize_t,
               l2acc=double, l1acc=double, num_iter=double, mu=double, k=Py_ssize_t)
cdef Py_ssize_t _plain_run(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, const double[:] y, const double[:] sw,
                           const int64_t[:] order, Py_ssize_t ii0, Py_ssize_t ii_stop,
                           double[:] w, double[:] aw, double[:] q, const int64_t[:] ip,
                           const double[:] fp, bint multi, double scale_ref,
                           double[:] st) noexcept nogil

@cython.locals(dense_d=Py_ssize_t, rule=int, loss=int, schedule=int,
               batch_size=Py_ssize_t, fit_intercept=bint, lazy=bint, param=double,
               a2=double, a1=double, t0=double, gamma=double, n_features=Py_ssize_t,
               n=Py_ssize_t, sparse=bint, scaled=bint,
               all_coords=bint, use_list=bint, nag=bint, bb=Py_ssize_t, t=double,
               eta_t=double, b0=Py_ssize_t, b_end=Py_ssize_t, b_int=double, nk=Py_ssize_t,
               g_int=double, c1=double, c2=double, c1n=double, j=Py_ssize_t, f=double,
               tools=bint, clip_value=double, seed=int64_t, a2_rule=double,
               count=Py_ssize_t, sd=double, key=int64_t, sq=double,
               clip_norm=double, fused=bint)
cdef (Py_ssize_t, double, double, double) _opt_run(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    const double[:] y, const double[:] sw, const int64_t[:] order, Py_ssize_t bb0,
    Py_ssize_t bb_stop, double[:] w, double[:, :] state, double[:] q, const int64_t[:] ip,
    const double[:] fp, bint multi, double scale_ref, double u, double scale,
    double loss_sum, double[:] wi, double[:, :] si, double[:] gbuf, uint8_t[:] mark,
    int64_t[:] klist) noexcept nogil
