# C declarations of kernels/_nb_parallel.py for the Cython build (appended to
# _nb_common.pxd; see _nb_common.py). ``data`` is float32 or float64 (``floating``);
# every other float array is float64.

cdef Py_ssize_t _PLAIN_POS, _PLAIN_HI, _OPT_POS, _OPT_HI, _OPT_B

@cython.locals(n=Py_ssize_t, K=Py_ssize_t, multi=bint, t=double, k=Py_ssize_t,
               penalty=int, has_l1=bint, l1_ratio=double, alpha=double, u=double,
               s=Py_ssize_t, ii=Py_ssize_t, S=double, b_shared=double, pos=Py_ssize_t,
               hi=Py_ssize_t, stop=Py_ssize_t, s_new=double, b_new=double, j=Py_ssize_t,
               obj=double, last=Py_ssize_t, d=Py_ssize_t, whole=bint,
               wj=double, dw=double, dq=double, mw=Py_ssize_t,
               mq=Py_ssize_t, undo_all=double)
cdef double _hogwild_plain_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    const double[:] y, const double[:] sw, const int64_t[:] order, double[:] w,
    double[:] aw, double[:] q, double[:] st, const int64_t[:] ip, double[:] fp,
    double[:, :] tstate, double[:, :, :] rep) noexcept nogil

@cython.locals(K=Py_ssize_t, team=Py_ssize_t, r=double)
cpdef hogwild_plain_epoch(const floating[:] data, const int32_t[:] indices,
                          const int64_t[:] indptr, const double[:] y, const double[:] sw,
                          const int64_t[:] order, double[:] w, double[:] aw, double[:] q,
                          double[:] st, const int64_t[:] ip, double[:] fp,
                          double[:, :] tstate, double[:, :, :] rep)

@cython.locals(n_features=Py_ssize_t, n=Py_ssize_t, n_slots=Py_ssize_t, rule=int,
               batch_size=Py_ssize_t, n_batches=Py_ssize_t, K=Py_ssize_t, multi=bint,
               t=double, a1=double, scaled=bint, ts=double[:, :],
               k=Py_ssize_t, uk=double, bb=Py_ssize_t, S=double, s=Py_ssize_t,
               pos=Py_ssize_t, hi=Py_ssize_t, stop=Py_ssize_t, reached=Py_ssize_t,
               u_k=double, s_k=double, l_k=double,
               s_new=double, b0=double, b_new=double, s0=double, acc=double,
               j=Py_ssize_t, loss_sum=double)
cdef double _hogwild_optimizer_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    const double[:] y, const double[:] sw, const int64_t[:] order, double[:] w,
    double[:, :] state, double[:] q, const int64_t[:] ip, double[:] fp,
    double[:, :] gbuf, uint8_t[:, :] mark, int64_t[:, :] klist,
    double[:, :, :] tstate) noexcept nogil

@cython.locals(n_features=Py_ssize_t, batch_size=Py_ssize_t, n_batches=Py_ssize_t,
               K=Py_ssize_t, team=Py_ssize_t, r=double)
cpdef hogwild_optimizer_epoch(const floating[:] data, const int32_t[:] indices,
                              const int64_t[:] indptr, const double[:] y,
                              const double[:] sw, const int64_t[:] order, double[:] w,
                              double[:, :] state, double[:] q, const int64_t[:] ip,
                              double[:] fp, double[:, :] gbuf, uint8_t[:, :] mark,
                              int64_t[:, :] klist, double[:, :, :] tstate)

@cython.locals(n_features=Py_ssize_t, n=Py_ssize_t, K=Py_ssize_t, dense_d=Py_ssize_t,
               rule=int, loss=int, batch_size=Py_ssize_t, param=double, a2=double,
               a1=double, t=double, u=double, gamma=double,
               sparse=bint, scaled=bint, all_coords=bint, use_list=bint, nag=bint,
               scale=double, loss_sum=double, b0=Py_ssize_t, b_end=Py_ssize_t,
               nb=Py_ssize_t, eta_t=double, b_int=double, k=Py_ssize_t, lk=double,
               gk=double, nk_k=Py_ssize_t, g_int=double, nk=Py_ssize_t, kk=Py_ssize_t,
               j=Py_ssize_t, count=Py_ssize_t, c1=double, c2=double, c1n=double,
               c=Py_ssize_t, lo=Py_ssize_t, hi=Py_ssize_t, tools=bint, clip_value=double,
               seed=int64_t, a2_rule=double, sd=double, key=int64_t, f=double,
               sq=double)
cdef double _sync_optimizer_epoch(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    const double[:] y, const double[:] sw, const int64_t[:] order, double[:] w,
    double[:, :] state, double[:] q, const int64_t[:] ip, double[:] fp,
    double[:, :] gbuf, uint8_t[:, :] mark, int64_t[:, :] klist,
    double[:, :] tstate) noexcept nogil

@cython.locals(n_features=Py_ssize_t, K=Py_ssize_t, team=Py_ssize_t, r=double)
cpdef sync_optimizer_epoch(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, const double[:] y, const double[:] sw,
                           const int64_t[:] order, double[:] w, double[:, :] state,
                           double[:] q, const int64_t[:] ip, double[:] fp,
                           double[:, :] gbuf, uint8_t[:, :] mark, int64_t[:, :] klist,
                           double[:, :] tstate)

@cython.locals(K=Py_ssize_t, n=Py_ssize_t, d1=Py_ssize_t, k=Py_ssize_t, j=Py_ssize_t,
               loss_sum=double, c=Py_ssize_t)
cdef double _sync_loss_gradient(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    const double[:] y, const double[:] sw, const int64_t[:] order, const double[:] w,
    const int64_t[:] ip, const double[:] fp, double[:, :] gbuf,
    double[:, :] tstate) noexcept nogil

@cython.locals(K=Py_ssize_t, team=Py_ssize_t, r=double)
cpdef sync_loss_gradient(const floating[:] data, const int32_t[:] indices,
                         const int64_t[:] indptr, const double[:] y, const double[:] sw,
                         const int64_t[:] order, const double[:] w, const int64_t[:] ip,
                         const double[:] fp, double[:, :] gbuf, double[:, :] tstate)

@cython.locals(K=Py_ssize_t, n=Py_ssize_t, d1=Py_ssize_t, k=Py_ssize_t, c=Py_ssize_t,
               a=Py_ssize_t, b=Py_ssize_t)
cdef void _sync_logistic_hessian_sum(
    const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
    Py_ssize_t dense_d, const int64_t[:] order, const double[:] sw, const double[:] w,
    double[:, :, :] H) noexcept nogil

@cython.locals(team=Py_ssize_t)
cpdef sync_logistic_hessian_sum(const floating[:] data, const int32_t[:] indices,
                                const int64_t[:] indptr, Py_ssize_t dense_d,
                                const int64_t[:] order, const double[:] sw,
                                const double[:] w, double[:, :, :] H)
