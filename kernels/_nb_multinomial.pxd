# C declarations of kernels/_nb_multinomial.py for the Cython build (appended, after
# _nb_common.pxd and _nb_vr.pxd, whose _lag_prox it calls; see setup.py). ``data`` is
# float32 or float64 (``floating``); every other float array is float64; the 2-D arrays
# (W, D, gmem, buf, work) are C-contiguous.


@cython.locals(c=Py_ssize_t, dA=double)
cdef inline void _catch_up(double[:, ::1] w, const double[:, ::1] D, Py_ssize_t j,
                           Py_ssize_t k0, Py_ssize_t k, const double[::1] A,
                           const double[::1] B, const double[::1] cp,
                           const double[::1] invs, double eta, double tau,
                           double lam1) noexcept nogil

@cython.locals(j=Py_ssize_t, k0=Py_ssize_t, c=Py_ssize_t)
cdef void _flush_classes(double[:, ::1] w, Py_ssize_t d, Py_ssize_t k, int64_t[:] last,
                         const double[:, ::1] D, const double[::1] A, const double[::1] B,
                         const double[::1] cp, const double[::1] invs, double eta,
                         double tau, double lam1, double s) noexcept nogil

@cython.locals(n_classes=Py_ssize_t, c=Py_ssize_t, pmax=double, total=double)
cdef inline double _softmax_dloss(const double[::1] p, Py_ssize_t yi, double swi,
                                  double[::1] g) noexcept nogil

@cython.locals(d=Py_ssize_t, c=Py_ssize_t, kk=Py_ssize_t, j=Py_ssize_t, x=double)
cdef inline void _margins(const floating[:] data, const int32_t[:] indices,
                          Py_ssize_t dense_d, Py_ssize_t start, Py_ssize_t end,
                          const double[:, ::1] w, double[::1] p) noexcept nogil

@cython.locals(dense_d=Py_ssize_t, solver=int, fit_intercept=bint, m_seen=Py_ssize_t,
               eta=double, lam2=double, lam1=double, A=double[::1], B=double[::1],
               cp=double[::1], invs=double[::1], p=double[::1], g=double[::1],
               n_classes=Py_ssize_t, d=Py_ssize_t, a=double, tau=double, s=double,
               k=Py_ssize_t, ii=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, kk=Py_ssize_t,
               k0=Py_ssize_t, c=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t, x=double,
               gc=double, ck=double, efac=double, inv=double, delta=double, es=double,
               th=double, v=double)
cdef void _multinomial_epoch(const floating[:] data, const int32_t[:] indices,
                             const int64_t[:] indptr, const int64_t[:] y,
                             const double[:] sw, const int64_t[:] order,
                             double[:, ::1] w, double[:, ::1] D, double[:, ::1] gmem,
                             uint8_t[:] seen, int64_t[:] ip, double[:] fp,
                             int64_t[:] last, double[:, ::1] work,
                             double[:, ::1] buf) noexcept nogil

cpdef multinomial_epoch(const floating[:] data, const int32_t[:] indices,
                        const int64_t[:] indptr, const int64_t[:] y, const double[:] sw,
                        const int64_t[:] order, double[:, ::1] w, double[:, ::1] D,
                        double[:, ::1] gmem, uint8_t[:] seen, int64_t[:] ip,
                        double[:] fp, int64_t[:] last, double[:, ::1] work,
                        double[:, ::1] buf)

@cython.locals(n_classes=Py_ssize_t, d=Py_ssize_t, n=Py_ssize_t, p=double[::1],
               c=Py_ssize_t, j=Py_ssize_t, ii=Py_ssize_t, i=Py_ssize_t, kk=Py_ssize_t,
               start=Py_ssize_t, end=Py_ssize_t, x=double, total=double)
cdef double _multinomial_snapshot(const floating[:] data, const int32_t[:] indices,
                                  const int64_t[:] indptr, Py_ssize_t dense_d,
                                  const int64_t[:] y, const double[:] sw,
                                  const int64_t[:] idx, const double[:, ::1] w,
                                  double[:, ::1] mu, double[:, ::1] gsnap,
                                  double[:, ::1] buf) noexcept nogil

@cython.locals(total=double)
cpdef multinomial_snapshot(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, Py_ssize_t dense_d, const int64_t[:] y,
                           const double[:] sw, const int64_t[:] idx,
                           const double[:, ::1] w, double[:, ::1] mu,
                           double[:, ::1] gsnap, double[:, ::1] buf)

@cython.locals(p=double[::1], g=double[::1], ii=Py_ssize_t, i=Py_ssize_t,
               start=Py_ssize_t, end=Py_ssize_t, total=double)
cdef double _multinomial_loss_sum(const floating[:] data, const int32_t[:] indices,
                                  const int64_t[:] indptr, Py_ssize_t dense_d,
                                  const int64_t[:] y, const double[:] sw,
                                  const int64_t[:] idx, const double[:, ::1] w,
                                  double[:, ::1] buf) noexcept nogil

@cython.locals(total=double)
cpdef multinomial_loss_sum(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, Py_ssize_t dense_d, const int64_t[:] y,
                           const double[:] sw, const int64_t[:] idx,
                           const double[:, ::1] w, double[:, ::1] buf)
