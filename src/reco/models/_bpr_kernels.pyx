# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The SGD kernel of BPR (serial over one block of the user x item grid; releases the GIL).

An epoch cuts users into T ranges and items into T random sets (drawn again every epoch)
and runs T rounds; in round s the thread of user part p works on item set (p + s) mod T,
so no two threads ever touch the same user or item vector (stratified SGD, Gemulla et al.
2011): no locks, no races, and the same seed and thread count give the same factors. A
block's samples are its own interactions drawn with replacement; the negative item is drawn
(from a second random stream) from the block's items, skipping the user's known positives.
Samples are drawn in order several steps before they are applied, so that their scattered
rows are fetched from memory meanwhile (the draws depend only on the data). Because the item sets are
random and redrawn, over the epochs every item is a negative for every positive.
"""

from libc.math cimport expf
from libc.stdint cimport int32_t, int64_t, uint64_t


cdef inline uint64_t _next(uint64_t* state) noexcept nogil:
    """splitmix64: a small, fast, well-mixed generator (one per block)."""
    state[0] += 0x9E3779B97F4A7C15ULL
    cdef uint64_t z = state[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline int64_t _below(uint64_t* state, int64_t n) noexcept nogil:
    return <int64_t>(_next(state) % <uint64_t>n)


cdef inline bint _has(const int32_t* row, int64_t length, int32_t item) noexcept nogil:
    """Binary search of a sorted row."""
    cdef int64_t lo = 0, hi = length, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if row[mid] < item:
            lo = mid + 1
        else:
            hi = mid
    return lo < length and row[lo] == item


cdef extern from *:
    void _prefetch "__builtin_prefetch"(const void* address) nogil


# a sample passes through stages, each this many samples before it is applied: draw its
# interaction (fetch the entry), read the user (fetch the user's row of items and the
# positive's position), read the positive (fetch the two factor rows), draw the negative
# (fetch its row). Every stage waits for memory only on what an earlier one fetched.
cdef enum:
    RING = 32
    DRAW = 16
    USER = 10
    POSITIVE = 5
    NEGATIVE = 2


cdef inline void _fetch_row(const float* row, int64_t k) noexcept nogil:
    cdef int64_t f = 0
    while f < k:
        _prefetch(row + f)
        f += 16  # one 64-byte line


cdef inline int64_t _negative(
    uint64_t* state, const int32_t* row, int64_t length, const int32_t* block_items,
    int64_t width,
) noexcept nogil:
    """A random item of the block the user does not know (up to 32 tries), or -1."""
    cdef int64_t j, tries
    for tries in range(32):
        j = block_items[_below(state, width)]
        if not _has(row, length, <int32_t>j):
            return j
    return -1


cdef inline float _gap(
    const float* x, const float* y_pos, const float* y_neg, int64_t k
) noexcept nogil:
    """x . (y_pos - y_neg) with eight running sums (vectorisable, in a fixed order)."""
    cdef float s[8]
    cdef int64_t f = 0, j
    for j in range(8):
        s[j] = 0
    while f + 8 <= k:
        for j in range(8):
            s[j] += x[f + j] * (y_pos[f + j] - y_neg[f + j])
        f += 8
    while f < k:
        s[0] += x[f] * (y_pos[f] - y_neg[f])
        f += 1
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))


def bpr_block(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const int64_t[::1] entries,
    const int64_t[::1] entry_users,
    const int32_t[::1] block_items,
    int64_t n_samples,
    double learning_rate,
    double regularization,
    uint64_t seed,
    float[:, ::1] X,
    float[:, ::1] Y,
    int64_t n_latent,
):
    """``n_samples`` SGD steps on one block. ``entries`` are positions in ``indices`` of the
    block's interactions (``entry_users`` their users); ``block_items`` its items. The first ``n_latent`` columns are learned for users; column
    ``n_latent`` (when present) is the item bias, with the user's column fixed at 1.

    For a sample (u, i, j), with :math:`x_{uij} = x_u (y_i - y_j)` and
    :math:`z = \\sigma(-x_{uij})`: :math:`x_u \\mathrel{+}= \\eta (z (y_i - y_j) - \\lambda x_u)`,
    :math:`y_i \\mathrel{+}= \\eta (z x_u - \\lambda y_i)`,
    :math:`y_j \\mathrel{+}= \\eta (-z x_u - \\lambda y_j)`. Returns (samples used, skipped:
    users whose every item of the block is known).
    """
    cdef int64_t k = X.shape[1], n_entries = entries.shape[0], width = block_items.shape[0]
    cdef int64_t s, t, e, u, i, j, f, used = 0, skipped = 0
    cdef uint64_t state = seed
    cdef float score, z, lr = <float>learning_rate, reg = <float>regularization, xu, yi, yj
    cdef float* x
    cdef float* y_pos
    cdef float* y_neg
    if n_entries == 0 or width <= 0:
        return 0, 0
    cdef int64_t ring_e[RING]
    cdef int64_t ring_u[RING]
    cdef int64_t ring_i[RING]
    cdef int64_t ring_j[RING]
    cdef uint64_t negatives = seed ^ 0x5DEECE66DULL  # a second stream: negatives
    _next(&negatives)
    with nogil:
        for s in range(-DRAW, n_samples):
            t = s + DRAW
            if t < n_samples:
                e = _below(&state, n_entries)
                ring_e[t % RING] = e
                _prefetch(&entries[e])
                _prefetch(&entry_users[e])
            t = s + USER
            if 0 <= t < n_samples:
                e = ring_e[t % RING]
                u = entry_users[e]
                ring_u[t % RING] = u
                _prefetch(&indptr[u])
                _prefetch(&indices[entries[e]])
            t = s + POSITIVE
            if 0 <= t < n_samples:
                u = ring_u[t % RING]
                ring_i[t % RING] = indices[entries[ring_e[t % RING]]]
                _prefetch(&indices[indptr[u]])
                _fetch_row(&X[u, 0], k)
                _fetch_row(&Y[ring_i[t % RING], 0], k)
            t = s + NEGATIVE
            if 0 <= t < n_samples:
                u = ring_u[t % RING]
                j = _negative(
                    &negatives, &indices[indptr[u]], indptr[u + 1] - indptr[u],
                    &block_items[0], width,
                )
                ring_j[t % RING] = j
                if j >= 0:
                    _fetch_row(&Y[j, 0], k)
            if s < 0:
                continue
            j = ring_j[s % RING]
            if j < 0:
                skipped += 1
                continue
            u = ring_u[s % RING]
            i = ring_i[s % RING]
            x = &X[u, 0]
            y_pos = &Y[i, 0]
            y_neg = &Y[j, 0]
            z = 1.0 / (1.0 + expf(_gap(x, y_pos, y_neg, k)))
            for f in range(n_latent):  # user, positive and negative item together
                xu = x[f]
                yi = y_pos[f]
                yj = y_neg[f]
                x[f] = xu + lr * (z * (yi - yj) - reg * xu)
                y_pos[f] = yi + lr * (z * xu - reg * yi)
                y_neg[f] = yj + lr * (-z * xu - reg * yj)
            for f in range(n_latent, k):  # the bias: the user's weight stays fixed
                xu = x[f]
                y_pos[f] += lr * (z * xu - reg * y_pos[f])
                y_neg[f] += lr * (-z * xu - reg * y_neg[f])
            used += 1
    return used, skipped
