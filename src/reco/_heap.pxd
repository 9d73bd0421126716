# cython: language_level=3
"""The bounded min-heap every top-k selection in reco uses (inline, shared by the kernels).

Tie rule: higher score first; among equal scores the lower index ranks first, so a
(score, index) pair is worse than another when its score is lower, or equal with a higher
index. The heap keeps the worst kept entry at the root.
"""

from libc.stdint cimport int32_t, int64_t


cdef inline bint worse(float s_a, int64_t i_a, float s_b, int64_t i_b) noexcept nogil:
    """True when (score a, index a) ranks below (score b, index b)."""
    return s_a < s_b or (s_a == s_b and i_a > i_b)


cdef inline void sift_down(float* heap_s, int32_t* heap_i, int64_t size, int64_t pos) noexcept nogil:
    cdef int64_t child
    cdef float ts
    cdef int32_t ti
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        if child + 1 < size and worse(heap_s[child + 1], heap_i[child + 1], heap_s[child], heap_i[child]):
            child += 1
        if worse(heap_s[child], heap_i[child], heap_s[pos], heap_i[pos]):
            ts = heap_s[pos]; heap_s[pos] = heap_s[child]; heap_s[child] = ts
            ti = heap_i[pos]; heap_i[pos] = heap_i[child]; heap_i[child] = ti
            pos = child
        else:
            return


cdef inline int64_t push(float* heap_s, int32_t* heap_i, int64_t size, int64_t n, float s, int64_t j) noexcept nogil:
    """Offer (s, j) to a heap holding at most n; returns the new size."""
    cdef int64_t pos, parent
    cdef float ts
    cdef int32_t ti
    if size < n:
        pos = size
        heap_s[pos] = s
        heap_i[pos] = <int32_t>j
        size += 1
        while pos > 0:  # sift up
            parent = (pos - 1) // 2
            if worse(heap_s[pos], heap_i[pos], heap_s[parent], heap_i[parent]):
                ts = heap_s[pos]; heap_s[pos] = heap_s[parent]; heap_s[parent] = ts
                ti = heap_i[pos]; heap_i[pos] = heap_i[parent]; heap_i[parent] = ti
                pos = parent
            else:
                break
    elif worse(heap_s[0], heap_i[0], s, j):
        heap_s[0] = s
        heap_i[0] = <int32_t>j
        sift_down(heap_s, heap_i, size, 0)
    return size


cdef inline int64_t drain(float* heap_s, int32_t* heap_i, int64_t size, int32_t* out_items, float* out_scores) noexcept nogil:
    """Pop the heap into the outputs, best first; returns the number written."""
    cdef int64_t length = size
    while size > 0:
        size -= 1
        out_scores[size] = heap_s[0]
        out_items[size] = heap_i[0]
        heap_s[0] = heap_s[size]
        heap_i[0] = heap_i[size]
        sift_down(heap_s, heap_i, size, 0)
    return length
