"""Compiled likelihood kernels of the BTYD models: weighted log-likelihood and gradient in one
pass over the (compressed) customers, and the Gauss series of 2F1 where scipy's fails.

Floating point follows IEEE without traps: a log of 0 is -inf and a division by 0 is inf or
NaN, which the optimiser treats as a bad step (numpy's error model).
"""

from libc.math cimport exp, fabs, isfinite, log, pow
from libc.stdint cimport int64_t
from libcpp.vector cimport vector

import numpy as np


def bgnbd_totals(
    double r,
    double alpha,
    double a,
    double b,
    const double[::1] x,
    const int64_t[::1] x_index,
    const double[::1] at,
    const int64_t[::1] t_index,
    const double[::1] atx,
    const int64_t[::1] tx_index,
    const double[::1] weights,
    const double[::1] a12,
    const double[::1] dr12,
    const double[::1] da12,
    const double[::1] db12,
    bint modified,
):
    """Weighted BG/NBD (or MBG/NBD) log-likelihood and gradient (r, alpha, a, b).

    MBG/NBD lets customers drop out before their first repeat purchase too: the second term
    exists for every x, with ``b + x`` in place of ``b + x - 1``.
    """
    cdef double total = 0.0, g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0
    cdef double log_a = log(a), w, xi, lat, latx, a3, a4, bx, top, log_sum, w3, w4
    cdef int64_t k, ix
    # logs of the distinct alpha + T and alpha + t_x, once each (rows index them)
    cdef vector[double] log_at = vector[double](at.shape[0])
    cdef vector[double] log_atx = vector[double](atx.shape[0])
    with nogil:
        for k in range(at.shape[0]):
            log_at[k] = log(at[k])
        for k in range(atx.shape[0]):
            log_atx[k] = log(atx[k])
        for k in range(x.shape[0]):
            w = weights[k]
            xi = x[k]
            ix = x_index[k]
            lat = log_at[t_index[k]]
            a3 = -(r + xi) * lat
            if xi > 0 or modified:
                latx = log_atx[tx_index[k]]
                bx = b + xi if modified else b + xi - 1.0
                a4 = log_a - log(bx) - (r + xi) * latx
                top = a3 if a3 > a4 else a4
                log_sum = top + log(exp(a3 - top) + exp(a4 - top))
                w3 = exp(a3 - log_sum)
                w4 = 1.0 - w3
                total += w * (a12[ix] + log_sum)
                g0 += w * (dr12[ix] - w3 * lat - w4 * latx)
                g1 += w * (
                    r / alpha - w3 * (r + xi) / at[t_index[k]] - w4 * (r + xi) / atx[tx_index[k]]
                )
                g2 += w * (da12[ix] + w4 / a)
                g3 += w * (db12[ix] - w4 / bx)
            else:
                total += w * (a12[ix] + a3)
                g0 += w * (dr12[ix] - lat)
                g1 += w * (r / alpha - r / at[t_index[k]])
                g2 += w * da12[ix]
                g3 += w * db12[ix]
    return total, np.array([g0, g1, g2, g3])


def gamma_gamma_totals(
    double p,
    double q,
    double gamma,
    const double[::1] x,
    const int64_t[::1] x_index,
    const double[::1] m,
    const double[::1] log_m,
    const double[::1] log_x,
    const double[::1] weights,
    const double[::1] g_once,
    const double[::1] dg_once,
    const double[::1] dq_once,
):
    """Weighted Gamma-Gamma log-likelihood and gradient (p, q, gamma) in one pass."""
    cdef double total = 0.0, g0 = 0.0, g1 = 0.0, g2 = 0.0
    cdef double log_gamma = log(gamma), w, xi, px, denominator, log_total
    cdef int64_t k, ix
    with nogil:
        for k in range(x.shape[0]):
            w = weights[k]
            xi = x[k]
            ix = x_index[k]
            px = p * xi
            denominator = gamma + xi * m[k]
            log_total = log(denominator)
            total += w * (
                g_once[ix] + q * log_gamma + (px - 1) * log_m[k] + px * log_x[k]
                - (px + q) * log_total
            )
            g0 += w * xi * (dg_once[ix] + log_m[k] + log_x[k] - log_total)
            g1 += w * (dq_once[ix] + log_gamma - log_total)
            g2 += w * (q / gamma - (px + q) / denominator)
    return total, np.array([g0, g1, g2])


cdef struct ParetoRow:
    double log_total, d_r, d_alpha, d_s, d_beta


cdef ParetoRow _pareto_row(
    double r, double alpha, double s, double beta, double x, double t_x, double big_t,
    const double* nodes, const double* weights, int64_t n_nodes,
) noexcept nogil:
    """Log of (E + s I) and its gradient for one customer (Pareto/NBD).

    E = (alpha+T)^-(r+x) (beta+T)^-s and I = int_{t_x}^{T} f, f = (alpha+y)^-(r+x)
    (beta+y)^-(s+1). With k = r + x the substitution w = ((alpha+t_x)/(alpha+y))^(k-1)
    turns I into (alpha+t_x)^(1-k)/(k-1) int (beta+y(w))^-(s+1) dw, a smooth integrand for
    Gauss-Legendre; when w spans decades, v = log w removes the endpoint singularity of
    w^(-1/(k-1)), and for k near 1, u = log(alpha+y) is used instead. The derivatives of I are
    the integrals of the derivatives of f, by the same rule.
    """
    cdef double k = r + x
    cdef double log_e = -k * log(alpha + big_t) - s * log(beta + big_t)
    cdef double integral = 0.0, i_lna = 0.0, i_ia = 0.0, i_lnb = 0.0, i_ib = 0.0
    cdef double log_scale = 0.0, base, log_w_end, lo, hi, half, mid, v, ay, by, g, w, w_end, u
    cdef double log_si, top, log_total, share_e, scale
    cdef int64_t q
    cdef ParetoRow out
    if big_t > t_x:
        base = alpha + t_x
        log_w_end = (k - 1.0) * (log(base) - log(alpha + big_t))
        if fabs(k - 1.0) > 0.05 and log_w_end < -1.0:
            # steep case (many purchases, long gap): w = exp(v), v in [log w_end, 0], so
            # w^(-1/(k-1)) has no endpoint singularity; below v = -45 nothing is left to add
            lo = log_w_end if log_w_end > -45.0 else -45.0
            hi = 0.0
            half = 0.5 * (hi - lo)
            mid = 0.5 * (hi + lo)
            log_scale = (1.0 - k) * log(base) - log(k - 1.0)
            for q in range(n_nodes):
                v = mid + half * nodes[q]
                ay = base * exp(-v / (k - 1.0))  # alpha + y
                by = ay - alpha + beta  # beta + y
                g = weights[q] * half * exp(v) * pow(by, -(s + 1.0))
                integral += g
                i_lna += g * log(ay)
                i_ia += g / ay
                i_lnb += g * log(by)
                i_ib += g / by
        elif fabs(k - 1.0) > 0.05:
            w_end = exp(log_w_end)
            lo = w_end if w_end < 1.0 else 1.0
            hi = w_end if w_end > 1.0 else 1.0
            half = 0.5 * (hi - lo)
            mid = 0.5 * (hi + lo)
            log_scale = (1.0 - k) * log(base) - log(fabs(k - 1.0))
            for q in range(n_nodes):
                w = mid + half * nodes[q]
                ay = base * pow(w, -1.0 / (k - 1.0))  # alpha + y
                by = ay - alpha + beta  # beta + y
                g = weights[q] * half * pow(by, -(s + 1.0))
                integral += g
                i_lna += g * log(ay)
                i_ia += g / ay
                i_lnb += g * log(by)
                i_ib += g / by
        else:
            lo = log(base)
            hi = log(alpha + big_t)
            half = 0.5 * (hi - lo)
            mid = 0.5 * (hi + lo)
            log_scale = 0.0
            for q in range(n_nodes):
                u = mid + half * nodes[q]
                ay = exp(u)
                by = ay - alpha + beta
                g = weights[q] * half * exp(-k * u + u) * pow(by, -(s + 1.0))
                integral += g
                i_lna += g * u
                i_ia += g / ay
                i_lnb += g * log(by)
                i_ib += g / by
    # log(E + s * I) with I = exp(log_scale) * integral
    if integral > 0.0:
        log_si = log(s) + log_scale + log(integral)
        top = log_e if log_e > log_si else log_si
        log_total = top + log(exp(log_e - top) + exp(log_si - top))
        share_e = exp(log_e - log_total)
        scale = exp(log_scale - log_total)  # converts the raw integrals to (./total)
    else:
        log_total = log_e
        share_e = 1.0
        scale = 0.0
    out.log_total = log_total
    out.d_r = share_e * -log(alpha + big_t) - s * scale * i_lna
    out.d_alpha = share_e * -k / (alpha + big_t) - s * scale * k * i_ia
    out.d_s = share_e * -log(beta + big_t) + scale * integral - s * scale * i_lnb
    out.d_beta = share_e * -s / (beta + big_t) - s * scale * (s + 1.0) * i_ib
    return out


def pareto_totals(
    double r,
    double alpha,
    double s,
    double beta,
    const double[::1] x,
    const double[::1] t_x,
    const double[::1] big_t,
    const double[::1] weights,
    const double[::1] nodes,
    const double[::1] quad_weights,
    const double[::1] lg_x,
    const double[::1] dg_x,
):
    """Weighted Pareto/NBD log-likelihood and gradient (r, alpha, s, beta); ``lg_x``/``dg_x``
    hold lnGamma(r+x) - lnGamma(r) and digamma(r+x) - digamma(r) per customer."""
    cdef double total = 0.0, g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0, w
    cdef double log_alpha = log(alpha), log_beta = log(beta)
    cdef int64_t k
    cdef ParetoRow row
    with nogil:
        for k in range(x.shape[0]):
            row = _pareto_row(
                r, alpha, s, beta, x[k], t_x[k], big_t[k], &nodes[0], &quad_weights[0],
                nodes.shape[0],
            )
            w = weights[k]
            total += w * (lg_x[k] + r * log_alpha + s * log_beta + row.log_total)
            g0 += w * (dg_x[k] + log_alpha + row.d_r)
            g1 += w * (r / alpha + row.d_alpha)
            g2 += w * (log_beta + row.d_s)
            g3 += w * (s / beta + row.d_beta)
    return total, np.array([g0, g1, g2, g3])


cdef double _series(double a, double b, double c, double z) noexcept nogil:
    cdef double total = 1.0, term = 1.0
    cdef int64_t k
    for k in range(200_000):
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z
        total += term
        if fabs(term) < 1e-17 * fabs(total):
            break
        if not isfinite(total):  # overflowed: no use summing on
            break
    return total


def hyp2f1_series(
    const double[::1] a, const double[::1] b, const double[::1] c, const double[::1] z
):
    """Gauss series of 2F1(a, b; c; z) for 0 <= z < 1, element by element (summed until the
    terms stop mattering; inf as soon as the sum overflows)."""
    out_a = np.empty(a.shape[0])
    cdef double[::1] out = out_a
    cdef int64_t k
    with nogil:
        for k in range(a.shape[0]):
            out[k] = _series(a[k], b[k], c[k], z[k])
    return out_a


def pareto_log_totals(
    double r,
    double alpha,
    double s,
    double beta,
    const double[::1] x,
    const double[::1] t_x,
    const double[::1] big_t,
    const double[::1] nodes,
    const double[::1] quad_weights,
):
    """log(E + s I) of each customer (Pareto/NBD; see :func:`pareto_totals`)."""
    out_a = np.empty(x.shape[0])
    cdef double[::1] out = out_a
    cdef int64_t k
    with nogil:
        for k in range(x.shape[0]):
            out[k] = _pareto_row(
                r, alpha, s, beta, x[k], t_x[k], big_t[k], &nodes[0], &quad_weights[0],
                nodes.shape[0],
            ).log_total
    return out_a
