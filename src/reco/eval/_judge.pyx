"""Compiled judging kernel for the ranking metrics: which recommended items are relevant."""

from libc.stdint cimport int32_t, int64_t
from libcpp.algorithm cimport sort
from libcpp.functional cimport greater
from libcpp.pair cimport pair
from libcpp.vector cimport vector

import numpy as np


def judge_rows(
    const int32_t[:, ::1] item_index,
    const int64_t[::1] lengths,
    const int64_t[::1] truth_rows,
    const int64_t[::1] t_indptr,
    const int32_t[::1] t_indices,
    const double[::1] t_data,
    const int64_t[::1] column_map,
    int64_t k,
):
    """Gains (n x k), |R_u| and the ideal gains (n x k, sorted descending) per user.

    ``gains[u, r]`` is the relevance of user u's r-th recommended item (0 when not relevant);
    relevant means a truth entry > 0; ``column_map`` maps truth columns to the recommended
    items' indices (-1: an item the recommender cannot know, still counted in |R_u|).
    """
    cdef int64_t n = item_index.shape[0]
    gains_a = np.zeros((n, k), np.float64)
    ideal_a = np.zeros((n, k), np.float64)
    relevant_a = np.zeros(n, np.int64)
    cdef double[:, ::1] gains = gains_a
    cdef double[:, ::1] ideal = ideal_a
    cdef int64_t[::1] n_relevant = relevant_a
    cdef vector[pair[int64_t, double]] known
    cdef vector[double] all_rels
    cdef int64_t u, t, p, c, r, m, lo, hi, mid, item
    cdef double rel
    with nogil:
        for u in range(n):
            t = truth_rows[u]
            if t < 0:
                continue
            known.clear()
            all_rels.clear()
            for p in range(t_indptr[t], t_indptr[t + 1]):
                rel = t_data[p]
                if rel > 0:
                    all_rels.push_back(rel)
                    c = column_map[t_indices[p]]
                    if c >= 0:
                        known.push_back(pair[int64_t, double](c, rel))
            n_relevant[u] = all_rels.size()
            if all_rels.size() == 0:
                continue
            sort(known.begin(), known.end())
            m = known.size()
            for r in range(min(k, lengths[u])):
                item = item_index[u, r]
                lo = 0
                hi = m
                while lo < hi:
                    mid = (lo + hi) // 2
                    if known[mid].first < item:
                        lo = mid + 1
                    else:
                        hi = mid
                if lo < m and known[lo].first == item:
                    gains[u, r] = known[lo].second
            sort(all_rels.begin(), all_rels.end(), greater[double]())
            for r in range(min(k, <int64_t>all_rels.size())):
                ideal[u, r] = all_rels[r]
    return gains_a, ideal_a, relevant_a
