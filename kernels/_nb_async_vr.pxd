# C declarations of kernels/_nb_async_vr.py for the Cython build (appended to
# _nb_common.pxd; see _nb_common.py). ``data`` is float32 or float64 (``floating``);
# every other float array is float64.

cdef Py_ssize_t _POS, _HI

@cython.locals(d=Py_ssize_t, n=Py_ssize_t, j=Py_ssize_t, ii=Py_ssize_t, i=Py_ssize_t,
               k=Py_ssize_t, weighted=bint, c=double)
cdef void _column_inv_p(const int32_t[:] indices, const int64_t[:] indptr,
                        Py_ssize_t dense_d, const int64_t[:] idx, const double[:] p,
                        double[:] inv_p) noexcept nogil

cpdef column_inv_p(const int32_t[:] indices, const int64_t[:] indptr, Py_ssize_t dense_d,
                   const int64_t[:] idx, const double[:] p, double[:] inv_p)

@cython.locals(ii=Py_ssize_t, i=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t,
               kk=Py_ssize_t, j=Py_ssize_t, weighted=bint, er=double)
cdef void _steps(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
                 Py_ssize_t dense_d, const double[:] y, const double[:] sw,
                 const int64_t[:] order, const double[:] rw, Py_ssize_t ii0,
                 Py_ssize_t ii1, double[:] w,
                 double[:] D, double[:] gmem, const double[:] inv_p, bint saga, int loss,
                 double param, double eta, double lam2, double lam1, bint fit_intercept,
                 Py_ssize_t n, double[:, :] tstate, Py_ssize_t kt) noexcept nogil

@cython.locals(dense_d=Py_ssize_t, saga=bint, loss=int, fit_intercept=bint,
               n=Py_ssize_t, param=double, eta=double, lam2=double, lam1=double,
               d=Py_ssize_t, m=Py_ssize_t, K=Py_ssize_t, k=Py_ssize_t, pos=Py_ssize_t,
               hi=Py_ssize_t, stop=Py_ssize_t, multi=bint, b0=double, db0=double,
               b_new=double, db_new=double, whole=bint, j=Py_ssize_t,
               dw=double, mw=Py_ssize_t, dD=double, mD=Py_ssize_t)
cdef void _async_vr_epoch(const floating[:] data, const int32_t[:] indices,
                          const int64_t[:] indptr, const double[:] y, const double[:] sw,
                          const int64_t[:] order, const double[:] rw, double[:] w,
                          double[:] D, double[:] gmem, const double[:] inv_p,
                          const int64_t[:] ip, double[:] fp,
                          double[:, :] tstate, double[:, :, :] rep) noexcept nogil

@cython.locals(K=Py_ssize_t, team=Py_ssize_t)
cpdef async_vr_epoch(const floating[:] data, const int32_t[:] indices,
                     const int64_t[:] indptr, const double[:] y, const double[:] sw,
                     const int64_t[:] order, const double[:] rw, double[:] w,
                     double[:] D, double[:] gmem, const double[:] inv_p,
                     const int64_t[:] ip, double[:] fp, double[:, :] tstate,
                     double[:, :, :] rep)

@cython.locals(d=Py_ssize_t, ii=Py_ssize_t, i=Py_ssize_t, start=Py_ssize_t,
               end=Py_ssize_t, kk=Py_ssize_t)
cdef void _pass_piece(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                      const double[:] sw, const int64_t[:] idx, Py_ssize_t lo,
                      Py_ssize_t hi, const double[:] w, double[:] gmem, bint snapshot,
                      int loss, double param, double[:, :] gbuf, double[:, :] tstate,
                      Py_ssize_t kt) noexcept nogil

@cython.locals(dense_d=Py_ssize_t, snapshot=bint, loss=int, param=double, n=Py_ssize_t,
               d=Py_ssize_t, K=Py_ssize_t, k=Py_ssize_t, c=Py_ssize_t, j=Py_ssize_t,
               total=double, gb=double)
cdef double _full_pass(const floating[:] data, const int32_t[:] indices,
                       const int64_t[:] indptr, const double[:] y, const double[:] sw,
                       const int64_t[:] idx, const double[:] w, double[:] D,
                       double[:] gmem, const int64_t[:] ip, const double[:] fp,
                       double[:, :] gbuf, double[:, :] tstate) noexcept nogil

@cython.locals(K=Py_ssize_t, team=Py_ssize_t, total=double)
cpdef full_pass(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
                const double[:] y, const double[:] sw, const int64_t[:] idx,
                const double[:] w, double[:] D, double[:] gmem, const int64_t[:] ip,
                const double[:] fp, double[:, :] gbuf, double[:, :] tstate)
