# Loss functions of the Cython kernels, included (``include "_losses.pxi"``) by every
# kernels/_cy_*.pyx that needs them, so that there is one copy of their arithmetic: the
# twin of ``_log1pexp``, ``loss_value`` and ``loss_dloss`` of kernels/_nb_sgd.py, with the
# same operations in the same order and the same libm calls.
#
# The including module must first cimport ``exp, log, log1p, fabs`` from libc.math and
# include "_ids.pxi" (the LOSS_* ids).

cdef inline double _log1pexp(double x) noexcept nogil:
    if x <= -37.0:
        return exp(x)
    elif x <= -2.0:
        return log1p(exp(x))
    elif x <= 18.0:
        return log(1.0 + exp(x))
    elif x <= 33.3:
        return x + exp(-x)
    return x


cpdef double loss_value(int loss, double y, double p, double param) noexcept nogil:
    """L(y, p); y is in {-1, +1} for classification losses (as in scikit-learn)."""
    cdef double y01, z, r
    if loss == LOSS_SQUARED_ERROR:
        return 0.5 * (p - y) * (p - y)
    elif loss == LOSS_LOG_LOSS:
        y01 = 0.5 * (y + 1.0)
        return _log1pexp(p) - y01 * p
    elif loss == LOSS_HINGE:
        z = p * y
        return param - z if z <= param else 0.0
    elif loss == LOSS_SQUARED_HINGE:
        z = param - p * y
        return z * z if z > 0.0 else 0.0
    elif loss == LOSS_MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        elif z >= -1.0:
            return (1.0 - z) * (1.0 - z)
        return -4.0 * z
    elif loss == LOSS_HUBER:
        r = fabs(y - p)
        return 0.5 * r * r if r <= param else param * (r - 0.5 * param)
    elif loss == LOSS_EPSILON_INSENSITIVE:
        r = fabs(y - p) - param
        return r if r > 0.0 else 0.0
    else:  # squared epsilon-insensitive
        r = fabs(y - p) - param
        return r * r if r > 0.0 else 0.0


cpdef double loss_dloss(int loss, double y, double p, double param) noexcept nogil:
    """dL/dp, exactly as scikit-learn's SGD loss classes compute it (not yet clipped)."""
    cdef double y01, e, z, r
    if loss == LOSS_SQUARED_ERROR:
        return p - y
    elif loss == LOSS_LOG_LOSS:
        y01 = 0.5 * (y + 1.0)
        if p > -37.0:
            e = exp(-p)
            return ((1.0 - y01) - y01 * e) / (1.0 + e)
        return exp(p) - y01
    elif loss == LOSS_HINGE:
        return -y if p * y <= param else 0.0
    elif loss == LOSS_SQUARED_HINGE:
        z = param - p * y
        return -2.0 * y * z if z > 0.0 else 0.0
    elif loss == LOSS_MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        elif z >= -1.0:
            return 2.0 * (1.0 - z) * -y
        return -4.0 * y
    elif loss == LOSS_HUBER:
        r = p - y
        if fabs(r) <= param:
            return r
        return param if r >= 0.0 else -param
    elif loss == LOSS_EPSILON_INSENSITIVE:
        if y - p > param:
            return -1.0
        elif p - y > param:
            return 1.0
        return 0.0
    else:
        z = y - p
        if z > param:
            return -2.0 * (z - param)
        elif z < -param:
            return 2.0 * (-z - param)
        return 0.0
