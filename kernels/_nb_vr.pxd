# C declarations of kernels/_nb_vr.py for the Cython build (appended to _nb_common.pxd;
# see _nb_common.py). ``data`` is float32 or float64 (``floating``); every other float
# array is float64. The work arrays A, B, cp, invs of vr_epoch are C-contiguous.


cdef inline (Py_ssize_t, int, bint, Py_ssize_t, double, double,
             double) _vr_records(const int64_t[:] ip, const double[:] fp) noexcept nogil

cdef inline double _lag_prox(double x, double dj, Py_ssize_t k0, Py_ssize_t k1,
                             const double[::1] A, const double[::1] B,
                             const double[::1] cp, const double[::1] invs, double eta,
                             double tau, double lam1) noexcept nogil

@cython.locals(j=Py_ssize_t, k0=Py_ssize_t)
cdef void _flush(double[:] v, Py_ssize_t d, Py_ssize_t k, int64_t[:] last,
                 const double[:] D, const double[::1] A, const double[::1] B,
                 const double[::1] cp, const double[::1] invs, double eta, double tau,
                 double lam1, double s) noexcept nogil

@cython.locals(dense_d=Py_ssize_t, solver=int, loss=int, fit_intercept=bint,
               m_seen=Py_ssize_t, param=double, eta=double, lam2=double, lam1=double,
               A=double[::1], B=double[::1], cp=double[::1], invs=double[::1],
               d=Py_ssize_t, k=Py_ssize_t, ii=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t,
               kk=Py_ssize_t, k0=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t,
               ju=size_t, weighted=bint, r=double)
cdef void _vr_epoch(const floating[:] data, const int32_t[:] indices,
                    const int64_t[:] indptr, const double[:] y, const double[:] sw,
                    const int64_t[:] order, const double[:] rw, double[:] w,
                    double[:] D, double[:] gmem, uint8_t[:] seen, int64_t[:] ip,
                    double[:] fp, int64_t[:] last, double[:, ::1] work) noexcept nogil

cpdef vr_epoch(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
               const double[:] y, const double[:] sw, const int64_t[:] order,
               const double[:] rw, double[:] w, double[:] D, double[:] gmem,
               uint8_t[:] seen, int64_t[:] ip, double[:] fp, int64_t[:] last,
               double[:, ::1] work)

@cython.locals(d=Py_ssize_t, n=Py_ssize_t, ii=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t,
               kk=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t)
cdef double _svrg_snapshot(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                           const double[:] sw, const int64_t[:] idx, const double[:] w,
                           double[:] mu, double[:] gsnap, int loss,
                           double param) noexcept nogil

@cython.locals(total=double)
cpdef svrg_snapshot(const floating[:] data, const int32_t[:] indices,
                    const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                    const double[:] sw, const int64_t[:] idx, const double[:] w,
                    double[:] mu, double[:] gsnap, int loss, double param)

@cython.locals(d=Py_ssize_t, ii=Py_ssize_t, i=Py_ssize_t, kk=Py_ssize_t,
               start=Py_ssize_t, end=Py_ssize_t)
cdef double _loss_sum(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                      const double[:] sw, const int64_t[:] idx, const double[:] w,
                      int loss, double param) noexcept nogil

@cython.locals(total=double)
cpdef loss_sum(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
               Py_ssize_t dense_d, const double[:] y, const double[:] sw,
               const int64_t[:] idx, const double[:] w, int loss, double param)

@cython.locals(ii=Py_ssize_t, i=Py_ssize_t, kk=Py_ssize_t, start=Py_ssize_t,
               end=Py_ssize_t, s=double)
cdef void _row_sq_norms(const floating[:] data, const int64_t[:] indptr,
                        Py_ssize_t dense_d, const int64_t[:] idx,
                        double[:] out) noexcept nogil

cpdef row_sq_norms(const floating[:] data, const int64_t[:] indptr, Py_ssize_t dense_d,
                   const int64_t[:] idx, double[:] out)
