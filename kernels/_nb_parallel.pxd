# C declarations of kernels/_nb_parallel.py for the Cython build (appended to
# _nb_common.pxd; see _nb_common.py). ``data`` is float32 or float64 (``floating``);
# every other float array is float64.

cdef Py_ssize_t _PLAIN_POS, _PLAIN_HI, _OPT_POS, _OPT_HI

@cython.locals(wscale=double, avg_a=double, avg_b=double, u=double, sq_norm=double,
               l1_norm=double, intercept=double, avg_intercept=double,
               objective_sum=double, n_features=Py_ssize_t, has_l1=bint, ii=Py_ssize_t,
               t=double, eta_t=double, c=double, i=Py_ssize_t, start=Py_ssize_t,
               end=Py_ssize_t, p=double, yi=double, nrm=double, update=double, f=double,
               j=Py_ssize_t, l2acc=double, l1acc=double, num_iter=double, mu=double,
               k=Py_ssize_t, z=double, v=double)
cdef Py_ssize_t _plain_run(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                           const double[:] sw, const int64_t[:] order, Py_ssize_t ii0,
                           Py_ssize_t ii_stop, double[:] w, double[:] aw, double[:] q,
                           int loss, double param, int penalty, double alpha,
                           double l1_ratio, bint fit_intercept, double intercept_decay,
                           int schedule, const double[:] lr_params,
                           double t0, long average,
                           bint track_objective, bint multi, double scale_ref,
                           double[:, :] tstate, Py_ssize_t kt) noexcept nogil

@cython.locals(n=Py_ssize_t, K=Py_ssize_t, multi=bint, k=Py_ssize_t, has_l1=bint,
               u=double, s=Py_ssize_t, ii=Py_ssize_t, S=double, b_shared=double,
               pos=Py_ssize_t, hi=Py_ssize_t, stop=Py_ssize_t, s_new=double, b_new=double,
               j=Py_ssize_t, obj=double, last=Py_ssize_t)
cdef (double, double) _hogwild_plain_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    Py_ssize_t dense_d, const double[:] y, const double[:] sw, const int64_t[:] order,
    double[:] w, double[:] aw, double[:] q, double[:] st, int loss, double param,
    int penalty, double alpha, double l1_ratio, bint fit_intercept,
    double intercept_decay, int schedule, const double[:] lr_params,
    double t, long average, bint track_objective,
    Py_ssize_t n_threads, double[:, :] tstate) noexcept nogil

@cython.locals(K=Py_ssize_t, team=Py_ssize_t, r=(double, double))
cpdef hogwild_plain_epoch(const floating[:] data, const int32_t[:] indices,
                          const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                          const double[:] sw, const int64_t[:] order, double[:] w,
                          double[:] aw, double[:] q, double[:] st, int loss, double param,
                          int penalty, double alpha, double l1_ratio, bint fit_intercept,
                          double intercept_decay, int schedule, const double[:] lr_params,
                          double t, long average,
                          bint track_objective, Py_ssize_t n_threads, double[:, :] tstate)

@cython.locals(n_features=Py_ssize_t, n=Py_ssize_t, gamma=double, b1=double, b2=double,
               sparse=bint, nag=bint, u=double, scale=double, loss_sum=double,
               bb=Py_ssize_t, t=double, eta_t=double, b0=Py_ssize_t, b_end=Py_ssize_t,
               nb=Py_ssize_t, b_int=double, nk=Py_ssize_t, g_int=double, c1=double,
               c2=double, c1n=double, j=Py_ssize_t, kk=Py_ssize_t, f=double)
cdef Py_ssize_t _opt_run(const floating[:] data, const int32_t[:] indices,
                         const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                         const double[:] sw, const int64_t[:] order, Py_ssize_t batch_size,
                         Py_ssize_t bb0, Py_ssize_t bb_stop, double[:] w,
                         double[:, :] state, const double[:] hp, double[:] q, int rule,
                         int loss, double param, double alpha, double a2, double a1,
                         bint fit_intercept, bint all_coords, bint scaled, int schedule,
                         const double[:] lr_params, double t0, bint multi, double scale_ref, double[:] wi,
                         double[:, :] si, double[:] gbuf, double[:] dbuf, uint8_t[:] mark,
                         int64_t[:] klist, double[:, :] tstate, Py_ssize_t kt) noexcept nogil

@cython.locals(n_features=Py_ssize_t, n=Py_ssize_t, n_slots=Py_ssize_t,
               n_batches=Py_ssize_t, K=Py_ssize_t, multi=bint, a2=double, a1=double,
               sparse=bint, scaled=bint, all_coords=bint, k=Py_ssize_t, uk=double,
               bb=Py_ssize_t, S=double, s=Py_ssize_t, pos=Py_ssize_t, hi=Py_ssize_t,
               stop=Py_ssize_t, s_new=double, b0=double, b_new=double, s0=double,
               acc=double, j=Py_ssize_t, loss_sum=double)
cdef (double, double, double) _hogwild_optimizer_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    Py_ssize_t dense_d, const double[:] y, const double[:] sw, const int64_t[:] order,
    Py_ssize_t batch_size, double[:] w, double[:, :] state, const double[:] hp,
    double[:] q, int rule, int loss, double param, double alpha, double l1_ratio,
    bint fit_intercept, bint lazy, int schedule, const double[:] lr_params,
    double t, double u, Py_ssize_t n_threads, double[:, :] gbuf,
    double[:, :] dbuf, uint8_t[:, :] mark, int64_t[:, :] klist, double[:, :] wi,
    double[:, :, :] si, double[:, :] tstate) noexcept nogil

@cython.locals(n_features=Py_ssize_t, n=Py_ssize_t, n_slots=Py_ssize_t,
               n_batches=Py_ssize_t, K=Py_ssize_t, team=Py_ssize_t,
               r=(double, double, double))
cpdef hogwild_optimizer_epoch(const floating[:] data, const int32_t[:] indices,
                              const int64_t[:] indptr, Py_ssize_t dense_d,
                              const double[:] y, const double[:] sw,
                              const int64_t[:] order, Py_ssize_t batch_size, double[:] w,
                              double[:, :] state, const double[:] hp, double[:] q,
                              int rule, int loss, double param, double alpha,
                              double l1_ratio, bint fit_intercept, bint lazy, int schedule,
                              const double[:] lr_params, double t, double u, Py_ssize_t n_threads, double[:, :] gbuf,
                              double[:, :] dbuf, uint8_t[:, :] mark, int64_t[:, :] klist,
                              double[:, :] wi, double[:, :, :] si, double[:, :] tstate)

@cython.locals(loss_sum=double, g_int=double, nk=Py_ssize_t, ii=Py_ssize_t, i=Py_ssize_t,
               start=Py_ssize_t, end=Py_ssize_t, p=double, k=Py_ssize_t, j=Py_ssize_t,
               c=double)
cdef void _grad_piece(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                      const double[:] sw, const int64_t[:] order, Py_ssize_t lo,
                      Py_ssize_t hi, Py_ssize_t nb, const double[:] w,
                      const double[:, :] state, double gamma, bint nag, double scale,
                      double b_int, int loss, double param, bint all_coords, bint track,
                      double[:] gbuf, uint8_t[:] mark, int64_t[:] klist,
                      double[:, :] tstate, Py_ssize_t kt) noexcept nogil

@cython.locals(n_features=Py_ssize_t, n=Py_ssize_t, K=Py_ssize_t, a2=double, a1=double,
               gamma=double, b1=double, b2=double, sparse=bint, scaled=bint,
               all_coords=bint, track=bint, nag=bint, scale=double, loss_sum=double,
               b0=Py_ssize_t, b_end=Py_ssize_t, nb=Py_ssize_t, eta_t=double, b_int=double,
               k=Py_ssize_t, g_int=double, nk=Py_ssize_t, kk=Py_ssize_t, j=Py_ssize_t,
               c1=double, c2=double, c1n=double, c=Py_ssize_t)
cdef (double, double, double) _sync_optimizer_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    Py_ssize_t dense_d, const double[:] y, const double[:] sw, const int64_t[:] order,
    Py_ssize_t batch_size, double[:] w, double[:, :] state, const double[:] hp,
    double[:] q, int rule, int loss, double param, double alpha, double l1_ratio,
    bint fit_intercept, bint lazy, int schedule, const double[:] lr_params,
    double t, double u, Py_ssize_t n_threads, double[:, :] gbuf,
    uint8_t[:, :] mark, int64_t[:, :] klist, uint8_t[:] gmark, int64_t[:] gklist,
    double[:, :] tstate) noexcept nogil

@cython.locals(n_features=Py_ssize_t, K=Py_ssize_t, sparse=bint, track=bint,
               team=Py_ssize_t, r=(double, double, double))
cpdef sync_optimizer_epoch(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                           const double[:] sw, const int64_t[:] order,
                           Py_ssize_t batch_size, double[:] w, double[:, :] state,
                           const double[:] hp, double[:] q, int rule, int loss,
                           double param, double alpha, double l1_ratio, bint fit_intercept,
                           bint lazy, int schedule, const double[:] lr_params,
                           double t, double u,
                           Py_ssize_t n_threads, double[:, :] gbuf, uint8_t[:, :] mark,
                           int64_t[:, :] klist, uint8_t[:] gmark, int64_t[:] gklist,
                           double[:, :] tstate)
