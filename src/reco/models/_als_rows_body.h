/* The row loops of implicit ALS, compiled once per instruction set by _als_rows.h (which
   defines RECO_FN). No include guard: included twice. */

static inline float RECO_FN(dot)(const float* a, const float* b, int64_t k) {
    /* sixteen running sums (two vector chains): vectorisable, and the same order on every
       machine */
    float s[16] = {0};
    int64_t f = 0;
    for (; f + 16 <= k; f += 16)
        for (int j = 0; j < 16; ++j) s[j] += a[f + j] * b[f + j];
    for (; f < k; ++f) s[f & 15] += a[f] * b[f];
    for (int j = 0; j < 8; ++j) s[j] += s[j + 8];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

static inline void RECO_FN(axpy)(float scale, const float* a, float* out, int64_t k) {
    for (int64_t f = 0; f < k; ++f) out[f] += scale * a[f];
}

/* out += sum_q (conf_q - w_q y_q.x) y_q (conf NULL: out += sum_q w_q (y_q.x) y_q), the rows
   y_q = Y[idx[q]] gathered */
static void RECO_FN(reco_gather)(const int32_t* idx, const float* conf, const float* w,
                                 int64_t n, const float* Y, int64_t k, const float* x,
                                 float* out) {
    /* in chunks: first every dot (independent, so the scattered rows y_q load in
       parallel), then every axpy from rows still in cache; the same operations in the same
       order as one dot and one axpy per entry */
    float scale[RECO_GATHER_CHUNK];
    for (int64_t first = 0; first < n; first += RECO_GATHER_CHUNK) {
        const int64_t m = (n - first < RECO_GATHER_CHUNK) ? n - first : RECO_GATHER_CHUNK;
        for (int64_t j = 0; j < m; ++j) {
            const int64_t q = first + j;
            const float d = RECO_FN(dot)(Y + (int64_t)idx[q] * k, x, k);
            scale[j] = conf ? conf[q] - w[q] * d : w[q] * d;
        }
        for (int64_t j = 0; j < m; ++j)
            RECO_FN(axpy)(scale[j], Y + (int64_t)idx[first + j] * k, out, k);
    }
}

/* for CSR rows u in [start, stop): out[i] += (conf_ui - w_ui x_u.p_i) x_u (conf NULL:
   out[i] += w_ui (x_u.p_i) x_u), X read in order, P and out indexed by the columns */
static void RECO_FN(reco_scatter)(const int64_t* indptr, const int32_t* indices,
                                  const float* conf, const float* w, const float* X,
                                  const float* P, int64_t k, int64_t start, int64_t stop,
                                  float* out) {
    for (int64_t u = start; u < stop; ++u) {
        const float* x = X + u * k;
        for (int64_t q = indptr[u]; q < indptr[u + 1]; ++q) {
            const int64_t i = indices[q];
            const float d = RECO_FN(dot)(x, P + i * k, k);
            RECO_FN(axpy)(conf ? conf[q] - w[q] * d : w[q] * d, x, out + i * k, k);
        }
    }
}

/* sum_q conf_q (1 - x_u.y_i)^2 - alpha0 (x_u.y_i)^2 over CSR rows [start, stop) */
static double RECO_FN(reco_observed_loss)(const int64_t* indptr, const int32_t* indices,
                                          const float* conf, double alpha0, const float* X,
                                          const float* Y, int64_t k, int64_t start,
                                          int64_t stop) {
    double total = 0.0;
    for (int64_t u = start; u < stop; ++u)
        for (int64_t q = indptr[u]; q < indptr[u + 1]; ++q) {
            const double s = RECO_FN(dot)(X + u * k, Y + (int64_t)indices[q] * k, k);
            total += conf[q] * (1.0 - s) * (1.0 - s) - alpha0 * s * s;
        }
    return total;
}
