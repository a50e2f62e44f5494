# C declarations of kernels/_nb_sgd.py for the Cython build (appended to _nb_common.pxd;
# see _nb_common.py). ``data`` is float32 or float64 (``floating``); every other float
# array is float64.

cdef int64_t _MASK32, _MASK31

cpdef double loss_value(int loss, double y, double p, double param) noexcept nogil
cpdef double loss_dloss(int loss, double y, double p, double param) noexcept nogil

@cython.locals(n_features=Py_ssize_t, has_l1=bint, ii=Py_ssize_t, i=Py_ssize_t,
               start=Py_ssize_t, end=Py_ssize_t, k=Py_ssize_t, j=Py_ssize_t,
               wscale=double, avg_a=double, avg_b=double, u=double, sq_norm=double,
               l1_norm=double, intercept=double, avg_intercept=double,
               objective_sum=double, p=double, eta_t=double, yi=double, nrm=double,
               update=double, c=double, l2acc=double, l1acc=double, num_iter=double,
               mu=double, z=double, v=double)
cdef (double, double) _plain_sgd_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    Py_ssize_t dense_d, const double[:] y, const double[:] sw, const int64_t[:] order,
    double[:] w, double[:] aw, double[:] q, double[:] st, int loss, double param,
    int penalty, double alpha, double l1_ratio, bint fit_intercept,
    double intercept_decay, int schedule, const double[:] lr_params,
    double t, long average, bint track_objective) noexcept nogil

@cython.locals(r=(double, double))
cpdef plain_sgd_epoch(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                      const double[:] sw, const int64_t[:] order, double[:] w,
                      double[:] aw, double[:] q, double[:] st, int loss, double param,
                      int penalty, double alpha, double l1_ratio, bint fit_intercept,
                      double intercept_decay, int schedule, const double[:] lr_params,
                      double t, long average,
                      bint track_objective)

@cython.locals(s=int64_t, n=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, tmp=int64_t)
cdef void _sklearn_shuffle(int64_t[:] index, long long seed) noexcept nogil
cpdef sklearn_shuffle(int64_t[:] index, long long seed)

@cython.locals(j=Py_ssize_t)
cdef void _plain_sgd_finish(double[:] w, double[:] aw, double[:] st,
                            long average) noexcept nogil
cpdef plain_sgd_finish(double[:] w, double[:] aw, double[:] st, long average)

cpdef void apply_rule(int rule, Py_ssize_t j, double g, double[:] w, double[:, :] state,
                      double eta, const double[:] hp, double c1, double c2,
                      double c1n) noexcept nogil

@cython.locals(n_features=Py_ssize_t, n=Py_ssize_t, sparse=bint, scaled=bint,
               all_coords=bint, nag=bint, b0=Py_ssize_t, b_end=Py_ssize_t, nb=Py_ssize_t,
               nk=Py_ssize_t, j=Py_ssize_t, kk=Py_ssize_t, a2=double, a1=double,
               gamma=double, b1=double, b2=double, scale=double, loss_sum=double,
               eta_t=double, b_int=double, g_int=double, c1=double, c2=double,
               c1n=double)
cdef (double, double, double) _optimizer_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    Py_ssize_t dense_d, const double[:] y, const double[:] sw, const int64_t[:] order,
    Py_ssize_t batch_size, double[:] w, double[:, :] state, const double[:] hp,
    double[:] q, int rule, int loss, double param, double alpha, double l1_ratio,
    bint fit_intercept, bint lazy, int schedule, const double[:] lr_params,
    double t, double u, double[:] gbuf, double[:] dbuf,
    uint8_t[:] mark, int64_t[:] klist) noexcept nogil

@cython.locals(r=(double, double, double))
cpdef optimizer_epoch(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                      const double[:] sw, const int64_t[:] order, Py_ssize_t batch_size,
                      double[:] w, double[:, :] state, const double[:] hp, double[:] q,
                      int rule, int loss, double param, double alpha, double l1_ratio,
                      bint fit_intercept, bint lazy, int schedule, const double[:] lr_params,
                      double t, double u,
                      double[:] gbuf, double[:] dbuf, uint8_t[:] mark, int64_t[:] klist)

@cython.locals(i=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t, k=Py_ssize_t, p=double)
cdef void _margins(const floating[:] data, const int32_t[:] indices,
                   const int64_t[:] indptr, Py_ssize_t dense_d, Py_ssize_t n_rows,
                   const double[:] w, double intercept, double[:] out) noexcept nogil
cpdef margins(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
              Py_ssize_t dense_d, Py_ssize_t n_rows, const double[:] w, double intercept,
              double[:] out)

@cython.locals(s=double, i=Py_ssize_t)
cdef double _weighted_loss_sum(const double[:] y, const double[:] p, const double[:] sw,
                               int loss, double param) noexcept nogil
@cython.locals(s=double)
cpdef weighted_loss_sum(const double[:] y, const double[:] p, const double[:] sw, int loss,
                        double param)
