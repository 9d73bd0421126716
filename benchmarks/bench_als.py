"""ALS: reco beside implicit in one run, the same data, hyperparameters and threads.

A seeded power-law matrix of 50,000 users x 10,000 items (``--users``, ``--items``,
``--nnz``), binary. Both libraries get the same confidence (implicit's ``alpha=10`` on 0/1
data is confidence 10; reco's ``alpha=9`` with ``c = 1 + alpha v`` is the same), the same
``regularization``, 64 factors, 2 threads, BLAS held to one thread, and both compute the
training loss every iteration (the same formula, checked equal on the same factors):

Every figure is a median over ``--repeats`` runs (3), reco's and implicit's alternating.

* CG with 3 steps, 15 iterations: seconds per iteration (the whole fit, set-up included, over
  the iterations), final training loss, and the useful GFLOP/s of the CG algorithm against
  this machine's SGEMM ceiling;
* the exact (Cholesky) solver, 3 iterations: seconds per iteration;
* BPR, 10 epochs: seconds per epoch (implicit: 64 factors + its bias, the same learning rate
  0.01, regularisation 0.01 and threads as reco);
* top-10 for 10,000 users with their seen items excluded: reco's ``recommend_batch`` and
  implicit's ``recommend(..., filter_already_liked_items=True)``.

Targets (issue 13): CG at most 0.5x implicit's time per iteration with the loss within 1%;
Cholesky at most 0.5x; BPR epochs no slower; top-10 at least 3x faster.

    python benchmarks/bench_als.py [--users 50000] [--items 10000] [--nnz 2700000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from _common import power_law_matrix

FACTORS, THREADS, REG, CONFIDENCE = 64, 2, 0.01, 10.0


def sgemm_ceiling() -> float:
    """GFLOP/s of a large float32 matrix product on THREADS threads (the machine's ceiling)."""
    a = np.random.default_rng(0).standard_normal((3000, 3000)).astype(np.float32)
    with threadpool_limits(THREADS, "blas"):
        a @ a
        started = time.perf_counter()
        for _ in range(3):
            a @ a
        seconds = (time.perf_counter() - started) / 3
    return 2 * 3000**3 / seconds / 1e9


def cg_flops(matrix: sp.csr_array, steps: int) -> float:
    """Floating-point operations of one CG iteration (both sides): per side and pass, a
    dense product with the Gram matrix (2 n k^2) and a dot and an axpy per entry (4 k)."""
    n_users, n_items = matrix.shape
    passes = steps + 1
    dense = 2 * (n_users + n_items) * FACTORS**2
    sparse = 2 * matrix.nnz * 4 * FACTORS
    return passes * (dense + sparse)


def reco_fit(matrix, solver: str, iterations: int) -> tuple[list[float], float, object]:
    from reco.models import ALS

    model = ALS(
        n_factors=FACTORS, regularization=REG, alpha=CONFIDENCE - 1, n_iter=iterations,
        solver=solver, cg_steps=3, random_state=0, n_threads=THREADS,
    )  # fmt: skip
    started = time.perf_counter()
    model.fit(matrix)
    total = time.perf_counter() - started
    return [total / iterations] * iterations, float(model.loss_[-1]), model


def implicit_fit(matrix, use_cg: bool, iterations: int) -> tuple[list[float], float, object]:
    from implicit.cpu.als import AlternatingLeastSquares

    losses = []
    model = AlternatingLeastSquares(
        factors=FACTORS, regularization=REG, alpha=CONFIDENCE, iterations=iterations,
        use_cg=use_cg, num_threads=THREADS, calculate_training_loss=True, random_state=0,
    )  # fmt: skip
    started = time.perf_counter()
    model.fit(
        sp.csr_matrix(matrix),
        show_progress=False,
        callback=lambda iteration, elapsed, loss: losses.append(loss),
    )
    total = time.perf_counter() - started
    return [total / iterations] * iterations, float(losses[-1]), model


def bpr_epochs(matrix, epochs: int) -> tuple[float, float]:
    """Seconds per epoch of reco's and implicit's BPR (each draws one triple per
    interaction per epoch), same factors, learning rate, regularisation and threads."""
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    from reco.models import BPR

    started = time.perf_counter()
    BPR(n_factors=FACTORS, n_iter=epochs, random_state=0, n_threads=THREADS).fit(matrix)
    ours = (time.perf_counter() - started) / epochs
    peer = BayesianPersonalizedRanking(
        factors=FACTORS, iterations=epochs, num_threads=THREADS, random_state=0
    )
    started = time.perf_counter()
    peer.fit(sp.csr_matrix(matrix), show_progress=False)
    return ours, (time.perf_counter() - started) / epochs


def top10(reco_model, implicit_model, matrix, n_users: int) -> tuple[float, float, bool]:
    users = np.random.default_rng(1).choice(matrix.shape[0], n_users, replace=False)
    users.sort()
    reco_model.recommend_batch(users[:100], 10)
    started = time.perf_counter()
    ours = reco_model.recommend_batch(users, 10)
    reco_s = time.perf_counter() - started
    rows = sp.csr_matrix(matrix)[users]
    implicit_model.recommend(users[:100], rows[:100], N=10, filter_already_liked_items=True)
    started = time.perf_counter()
    ids, _ = implicit_model.recommend(users, rows, N=10, filter_already_liked_items=True)
    implicit_s = time.perf_counter() - started
    seen = sp.csr_array(matrix)
    clean = all(
        not set(ours.item_index[r][: ours.lengths[r]]) & set(seen[[u]].indices)
        for r, u in enumerate(users[:200])
    )
    del ids
    return reco_s, implicit_s, clean


def paired(repeats: int, ours, peers) -> tuple[list, list]:
    """Run ``ours`` and ``peers`` alternately ``repeats`` times each (so drift in the
    machine's speed hits both alike); returns both lists of results."""
    mine, theirs = [], []
    for _ in range(repeats):
        mine.append(ours())
        theirs.append(peers())
    return mine, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--nnz", type=int, default=2_700_000)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    matrix = power_law_matrix(args.users, args.items, args.nnz, seed=0)
    ceiling = sgemm_ceiling()
    print(
        f"{matrix.shape[0]:,} users x {matrix.shape[1]:,} items, {matrix.nnz:,} interactions; "
        f"{FACTORS} factors, {THREADS} threads; SGEMM ceiling {ceiling:.0f} GFLOP/s"
    )
    with threadpool_limits(1, "blas"):
        runs = paired(
            args.repeats,
            lambda: reco_fit(matrix, "cg", args.iterations),
            lambda: implicit_fit(matrix, True, args.iterations),
        )
        reco_times, reco_loss, reco_model = runs[0][-1]
        imp_times, imp_loss, imp_model = runs[1][-1]
        reco_times = [t for run in runs[0] for t in run[0]]
        imp_times = [t for run in runs[1] for t in run[0]]
        flops = cg_flops(matrix, 3)
        print(f"\nCG (3 steps), {args.iterations} iterations")
        print(f"{'':10} {'s/iter':>8} {'GFLOP/s':>8} {'final loss':>12}")
        for name, times, loss in (
            ("reco", reco_times, reco_loss),
            ("implicit", imp_times, imp_loss),
        ):
            per = float(np.median(times))
            print(f"{name:10} {per:8.3f} {flops / per / 1e9:8.1f} {loss:12.6f}")
        ratio = np.median(reco_times) / np.median(imp_times)
        gap = (reco_loss - imp_loss) / imp_loss
        print(
            f"reco / implicit time per iteration = {ratio:.2f}x (target <= 0.5: "
            f"{'met' if ratio <= 0.5 else 'NOT met'}); loss {gap:+.2%} (target within 1%: "
            f"{'met' if abs(gap) <= 0.01 or gap < 0 else 'NOT met'})"
        )
        chol_iters = 3
        runs = paired(
            args.repeats,
            lambda: reco_fit(matrix, "cholesky", chol_iters),
            lambda: implicit_fit(matrix, False, chol_iters),
        )
        reco_chol = [t for run in runs[0] for t in run[0]]
        imp_chol = [t for run in runs[1] for t in run[0]]
        ratio = np.median(reco_chol) / np.median(imp_chol)
        print(
            f"\nCholesky, {chol_iters} iterations: reco {np.median(reco_chol):.3f} s/iter, "
            f"implicit {np.median(imp_chol):.3f} s/iter: {ratio:.2f}x (target <= 0.5: "
            f"{'met' if ratio <= 0.5 else 'NOT met'})"
        )
        tops = [top10(reco_model, imp_model, matrix, 10_000) for _ in range(2 * args.repeats - 1)]
        reco_s = float(np.median([t[0] for t in tops]))
        imp_s = float(np.median([t[1] for t in tops]))
        clean = all(t[2] for t in tops)
        bprs = [bpr_epochs(matrix, 10) for _ in range(args.repeats)]
        bpr_reco = float(np.median([b[0] for b in bprs]))
        bpr_implicit = float(np.median([b[1] for b in bprs]))
    print(
        f"\nBPR, 10 epochs: reco {bpr_reco:.3f} s/epoch, implicit {bpr_implicit:.3f} s/epoch: "
        f"{bpr_reco / bpr_implicit:.2f}x (target <= 1: "
        f"{'met' if bpr_reco <= bpr_implicit else 'NOT met'})"
    )
    print(
        f"\ntop-10 for 10,000 users, seen items excluded: reco {reco_s:.3f} s, implicit "
        f"{imp_s:.3f} s: {imp_s / reco_s:.2f}x faster (target >= 3: "
        f"{'met' if imp_s / reco_s >= 3 else 'NOT met'}); no seen item listed: {clean}"
    )


if __name__ == "__main__":
    main()
