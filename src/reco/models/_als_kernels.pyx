# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernels of implicit-feedback ALS (serial over a row range; they release the GIL).

For one side (say users, with item factors ``Y`` fixed) each row ``u`` solves

    (alpha0 G + lambda_u I + sum_{i in I_u} w_ui y_i y_i^T) x_u = sum_{i in I_u} c_ui y_i,

with ``G = Y^T Y``, the observed confidence ``c_ui`` and ``w_ui = c_ui - alpha0``. The dense
part ``alpha0 P G`` of a block of rows is one BLAS product made by the caller; these kernels
add the sparse part and run the per-row arithmetic:

* :func:`cg_start` and :func:`cg_step`: conjugate gradients warm-started from the current
  factors (Takacs, Pilaszy & Tikk 2011), a block of rows at a time; :func:`scatter`, their
  sparse part for a side with few rows;
* :func:`cholesky_rows`: the exact solve, the system built with one GEMM per row and solved
  by LAPACK's ``sposv`` (BLAS and LAPACK are scipy's, found at run time: no build-time
  dependency);
* :func:`observed_loss`: the observed-pairs part of the training loss.
"""

from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy
from libcpp.vector cimport vector

import numpy as np


cdef extern from "_als_rows.h" nogil:
    void reco_gather(
        const int32_t* idx, const float* conf, const float* w, int64_t n, const float* Y,
        int64_t k, const float* x, float* out
    )
    void reco_scatter(
        const int64_t* indptr, const int32_t* indices, const float* conf, const float* w,
        const float* X, const float* P, int64_t k, int64_t start, int64_t stop, float* out
    )
    double reco_observed_loss(
        const int64_t* indptr, const int32_t* indices, const float* conf, double alpha0,
        const float* X, const float* Y, int64_t k, int64_t start, int64_t stop
    )

ctypedef void (*sgemm_t)(
    char* transa, char* transb, int* m, int* n, int* k, float* alpha, float* a, int* lda,
    float* b, int* ldb, float* beta, float* c, int* ldc
) noexcept nogil
ctypedef void (*sposv_t)(
    char* uplo, int* n, int* nrhs, float* a, int* lda, float* b, int* ldb, int* info
) noexcept nogil

cdef sgemm_t _sgemm = NULL
cdef sposv_t _sposv = NULL


cdef void* _capsule_pointer(object capsules, str name) except NULL:
    capsule = capsules[name]
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


def _load_lapack():
    """Point the kernels at scipy's BLAS ``sgemm`` and LAPACK ``sposv`` (once)."""
    global _sgemm, _sposv
    if _sgemm != NULL:
        return
    from scipy.linalg import cython_blas, cython_lapack

    _sgemm = <sgemm_t>_capsule_pointer(cython_blas.__pyx_capi__, "sgemm")
    _sposv = <sposv_t>_capsule_pointer(cython_lapack.__pyx_capi__, "sposv")


cdef inline float _dot(const float* a, const float* b, int64_t k) noexcept nogil:
    """Dot product with eight running sums (vectorisable, in a fixed order)."""
    cdef float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0
    cdef int64_t f = 0
    while f + 8 <= k:
        s0 += a[f] * b[f]
        s1 += a[f + 1] * b[f + 1]
        s2 += a[f + 2] * b[f + 2]
        s3 += a[f + 3] * b[f + 3]
        s4 += a[f + 4] * b[f + 4]
        s5 += a[f + 5] * b[f + 5]
        s6 += a[f + 6] * b[f + 6]
        s7 += a[f + 7] * b[f + 7]
        f += 8
    while f < k:
        s0 += a[f] * b[f]
        f += 1
    return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))


cdef inline void _axpy(float s, const float* a, float* out, int64_t k) noexcept nogil:
    cdef int64_t f
    for f in range(k):
        out[f] += s * a[f]


def cg_start(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const float[::1] confidence,
    const float[::1] wdiff,
    const int64_t[::1] rows,
    const float[:, ::1] Y,
    const float[::1] lam,
    const float[:, ::1] X,
    float[:, ::1] R,
    float[:, ::1] P,
    float[::1] rs,
):
    """Residuals of a block: ``R = b - A X`` where ``R`` holds ``alpha0 X G`` on entry;
    ``P = R`` and ``rs = |R|^2`` per row."""
    cdef int64_t k = Y.shape[1]
    cdef int64_t r, u, q, f
    cdef float* res
    cdef const float* y
    with nogil:
        for r in range(rows.shape[0]):
            u = rows[r]
            res = &R[r, 0]
            for f in range(k):
                res[f] = -res[f] - lam[r] * X[r, f]
            q = indptr[u]
            reco_gather(
                &indices[q], &confidence[q], &wdiff[q], indptr[u + 1] - q, &Y[0, 0], k,
                &X[r, 0], res,
            )
            for f in range(k):
                P[r, f] = res[f]
            rs[r] = _dot(res, res, k)


def cg_step(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const float[::1] wdiff,
    const int64_t[::1] rows,
    const float[:, ::1] Y,
    const float[::1] lam,
    float[:, ::1] X,
    float[:, ::1] R,
    float[:, ::1] P,
    float[:, ::1] AP,
    float[::1] rs,
):
    """One conjugate-gradient step for every row of a block; ``AP`` holds ``alpha0 P G``
    on entry (the sparse part and ``lambda_u P`` are added here)."""
    cdef int64_t k = Y.shape[1]
    cdef int64_t r, u, f
    cdef float alpha, beta, rs_new, curvature
    cdef float* ap
    with nogil:
        for r in range(rows.shape[0]):
            if rs[r] < 1e-20:
                continue  # converged: nothing left to do in this row
            u = rows[r]
            ap = &AP[r, 0]
            for f in range(k):
                ap[f] += lam[r] * P[r, f]
            reco_gather(
                &indices[indptr[u]], NULL, &wdiff[indptr[u]], indptr[u + 1] - indptr[u],
                &Y[0, 0], k, &P[r, 0], ap,
            )
            curvature = _dot(&P[r, 0], ap, k)
            if not curvature > 0:
                rs[r] = 0.0
                continue
            alpha = rs[r] / curvature
            for f in range(k):
                X[r, f] += alpha * P[r, f]
                R[r, f] -= alpha * ap[f]
            rs_new = _dot(&R[r, 0], &R[r, 0], k)
            beta = rs_new / rs[r]
            for f in range(k):
                P[r, f] = R[r, f] + beta * P[r, f]
            rs[r] = rs_new


def scatter(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const float[::1] confidence,
    const float[::1] wdiff,
    const float[:, ::1] X,
    const float[:, ::1] P,
    int64_t start,
    int64_t stop,
    float[:, ::1] out,
):
    """The sparse part of :func:`cg_start` / :func:`cg_step` in the other orientation, for
    a side with few rows: rows of ``indptr`` index the fixed vectors ``X`` (read in order),
    columns the updated ones (``P`` and ``out``, small, in cache). For rows ``start:stop``:
    ``out[i] += (c_ui - w_ui x_u.p_i) x_u``, or with an empty ``confidence``
    ``out[i] += w_ui (x_u.p_i) x_u``."""
    if stop > start and indices.shape[0] > 0:
        with nogil:
            reco_scatter(
                &indptr[0], &indices[0], &confidence[0] if confidence.shape[0] else NULL,
                &wdiff[0], &X[0, 0], &P[0, 0], X.shape[1], start, stop, &out[0, 0],
            )


def cholesky_rows(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const float[::1] confidence,
    const float[::1] wdiff,
    const int64_t[::1] rows,
    const float[:, ::1] Y,
    const float[:, ::1] A0,
    const float[::1] lam,
    float[:, ::1] X,
):
    """Exact solve of every row of a block: ``A = A0 + lambda_u I + Yw^T Yu`` (one GEMM on
    the row's gathered item factors, ``Yw`` scaled by ``w_ui``), ``b = sum c_ui y_i``,
    ``sposv``. Returns the number of rows whose system was not positive definite (their
    factors are left unchanged)."""
    if _sgemm == NULL:
        _load_lapack()
    cdef int k = <int>Y.shape[1]
    cdef int64_t r, u, q, t, f, n_u, widest = 0
    cdef int n_rows_int, info, one = 1, failures = 0
    cdef float one_f = 1.0
    cdef char upper = b"U"
    cdef char no = b"N"
    cdef char yes = b"T"
    for r in range(rows.shape[0]):
        u = rows[r]
        widest = max(widest, indptr[u + 1] - indptr[u])
    cdef vector[float] a_v = vector[float](k * k)
    cdef vector[float] b_v = vector[float](k)
    cdef vector[float] gathered_v = vector[float](max(widest, 1) * k)
    cdef vector[float] scaled_v = vector[float](max(widest, 1) * k)
    cdef float* a = a_v.data()
    cdef float* b = b_v.data()
    cdef float* gathered = gathered_v.data()
    cdef float* scaled = scaled_v.data()
    cdef const float* y
    with nogil:
        for r in range(rows.shape[0]):
            u = rows[r]
            n_u = indptr[u + 1] - indptr[u]
            memcpy(a, &A0[0, 0], k * k * sizeof(float))
            for f in range(k):
                a[f * k + f] += lam[r]
                b[f] = 0.0
            for t in range(n_u):
                q = indptr[u] + t
                y = &Y[indices[q], 0]
                for f in range(k):
                    gathered[t * k + f] = y[f]
                    scaled[t * k + f] = wdiff[q] * y[f]
                    b[f] += confidence[q] * y[f]
            if n_u > 0:
                n_rows_int = <int>n_u
                _sgemm(&no, &yes, &k, &k, &n_rows_int, &one_f, scaled, &k, gathered, &k,
                       &one_f, a, &k)
            _sposv(&upper, &k, &one, a, &k, b, &k, &info)
            if info != 0:
                failures += 1
                continue
            for f in range(k):
                X[r, f] = b[f]
    return failures


def observed_loss(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const float[::1] confidence,
    double alpha0,
    const float[:, ::1] X,
    const float[:, ::1] Y,
    int64_t start,
    int64_t stop,
):
    """``sum c_ui (1 - x_u.y_i)^2 - alpha0 (x_u.y_i)^2`` over the observed pairs of rows
    ``start:stop`` (the all-pairs term ``alpha0 sum (x.y)^2`` is added by the caller)."""
    cdef double total = 0.0
    if stop > start and indices.shape[0] > 0:
        with nogil:
            total = reco_observed_loss(
                &indptr[0], &indices[0], &confidence[0], alpha0, &X[0, 0], &Y[0, 0],
                X.shape[1], start, stop,
            )
    return total
