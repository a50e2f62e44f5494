# C declarations of kernels/_nb_sgd.py for the Cython build (appended to _nb_common.pxd;
# see _nb_common.py). ``data`` is float32 or float64 (``floating``); every other float
# array is float64.

cdef int64_t _MASK32, _MASK31

cpdef double loss_value(int loss, double y, double p, double param) noexcept nogil
cpdef double loss_dloss(int loss, double y, double p, double param) noexcept nogil

cdef double _plain_sgd_steps(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    const double[:] y, const double[:] sw, const int64_t[:] order, double[:] w,
    double[:] aw, double[:] q, double[:] st, const int64_t[:] ip,
    double[:] fp) noexcept nogil

@cython.locals(r=double)
cpdef plain_sgd_steps(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, const double[:] y, const double[:] sw,
                      const int64_t[:] order, double[:] w, double[:] aw, double[:] q,
                      double[:] st, const int64_t[:] ip, double[:] fp)

cdef double _plain_sgd_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    const double[:] y, const double[:] sw, const int64_t[:] order, double[:] w,
    double[:] aw, double[:] q, double[:] st, const int64_t[:] ip,
    double[:] fp) noexcept nogil

@cython.locals(r=double)
cpdef plain_sgd_epoch(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, const double[:] y, const double[:] sw,
                      const int64_t[:] order, double[:] w, double[:] aw, double[:] q,
                      double[:] st, const int64_t[:] ip, double[:] fp)

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

@cython.locals(t=double, rule=int, eta_t=double, sd=double, key=int64_t,
               clip_value=double, n=Py_ssize_t, sq=double, j=Py_ssize_t, gj=double,
               f=double, c1=double, c2=double, c1n=double)
cdef double _rule_step(double[:] w, double[:] g, double[:, :] state, const int64_t[:] ip,
                       double[:] fp) noexcept nogil
@cython.locals(r=double)
cpdef double rule_step(double[:] w, double[:] g, double[:, :] state, const int64_t[:] ip,
                       double[:] fp)

@cython.locals(d=Py_ssize_t, batch_size=Py_ssize_t, n_batches=Py_ssize_t, bb=Py_ssize_t,
               u=double, scale=double, loss_sum=double, j=Py_ssize_t)
cdef double _optimizer_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    const double[:] y, const double[:] sw, const int64_t[:] order, double[:] w,
    double[:, :] state, double[:] q, const int64_t[:] ip, double[:] fp, double[:] gbuf,
    uint8_t[:] mark, int64_t[:] klist) noexcept nogil

@cython.locals(r=double)
cpdef optimizer_epoch(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, const double[:] y, const double[:] sw,
                      const int64_t[:] order, double[:] w, double[:, :] state, double[:] q,
                      const int64_t[:] ip, double[:] fp, double[:] gbuf, uint8_t[:] mark,
                      int64_t[:] klist)

@cython.locals(j=Py_ssize_t)
cdef double _loss_gradient(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, const double[:] y, const double[:] sw,
                           const int64_t[:] order, const double[:] w, const int64_t[:] ip,
                           const double[:] fp, double[:] gbuf) noexcept nogil
@cython.locals(r=double)
cpdef loss_gradient(const floating[:] data, const int32_t[:] indices,
                    const int64_t[:] indptr, const double[:] y, const double[:] sw,
                    const int64_t[:] order, const double[:] w, const int64_t[:] ip,
                    const double[:] fp, double[:] gbuf)

@cython.locals(i=Py_ssize_t)
cdef void _step_sizes(int schedule, const double[:] fp, const double[:] t,
                      double[:] out) noexcept nogil
cpdef step_sizes(int schedule, const double[:] fp, const double[:] t, double[:] out)

@cython.locals(i=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t, k=Py_ssize_t, p=double)
cdef void _margins(const floating[:] data, const int32_t[:] indices,
                   const int64_t[:] indptr, Py_ssize_t dense_d, Py_ssize_t n_rows,
                   const double[:] w, double intercept, double[:] out) noexcept nogil
cpdef margins(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
              Py_ssize_t dense_d, Py_ssize_t n_rows, const double[:] w, double intercept,
              double[:] out)

@cython.locals(ii=Py_ssize_t, i=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t)
cdef void _hessian_sum(const floating[:] data, const int32_t[:] indices,
                       const int64_t[:] indptr, Py_ssize_t dense_d, const int64_t[:] order,
                       const double[:] h, double[:, :] H) noexcept nogil
cpdef hessian_sum(const floating[:] data, const int32_t[:] indices,
                  const int64_t[:] indptr, Py_ssize_t dense_d, const int64_t[:] order,
                  const double[:] h, double[:, :] H)
cdef void _logistic_hessian_sum(const floating[:] data, const int32_t[:] indices,
                                const int64_t[:] indptr, Py_ssize_t dense_d,
                                const int64_t[:] order, const double[:] sw,
                                const double[:] w, double[:, :] H) noexcept nogil
cpdef logistic_hessian_sum(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, Py_ssize_t dense_d,
                           const int64_t[:] order, const double[:] sw, const double[:] w,
                           double[:, :] H)

@cython.locals(s=double, i=Py_ssize_t)
cdef double _weighted_loss_sum(const double[:] y, const double[:] p, const double[:] sw,
                               int loss, double param) noexcept nogil
@cython.locals(s=double)
cpdef weighted_loss_sum(const double[:] y, const double[:] p, const double[:] sw, int loss,
                        double param)
