"""The ``reco`` subcommands that work on files (CSV or Parquet in, CSV or Parquet out)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..batch._write import row_count
from ..exceptions import InvalidParameterError
from ._files import (
    first_column,
    need_columns,
    parse_params,
    parse_time,
    parse_weights,
    read_table,
    write_table,
)

__all__ = ["add_commands"]

MODELS = {
    "popularity": "Popularity",
    "itemknn": "ItemKNN",
    "ease": "EASE",
    "rp3beta": "RP3beta",
    "slim": "SLIM",
    "rules": "AssociationRuleRecommender",
    "associationrulerecommender": "AssociationRuleRecommender",
}


def _command(commands, name: str, summary: str, example: str, run) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=summary,
        description=f"{summary}.",
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser


def _model_class(name: str, parser: argparse.ArgumentParser) -> type:
    from .. import models

    key = MODELS.get(name.lower())
    if key is None:
        parser.error(f"--model must be one of {sorted(set(MODELS.values()))}; got {name!r}")
    return getattr(models, key)


def _progress(args) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def _done(path: Path, rows: int, what: str) -> int:
    print(f"wrote {rows:,} {what} to {path}")
    return 0


def _interactions(args, frame: pd.DataFrame, path: str):
    from ..data import Interactions

    need_columns(
        frame, path, user=args.user, item=args.item, time=args.time, value=args.value,
        event=args.event,
    )  # fmt: skip
    return Interactions.from_frame(
        parse_time(frame, args.time, path),
        user=args.user,
        item=args.item,
        time=args.time,
        value=args.value,
        event=args.event,
        event_weights=parse_weights(args.weights),
    )


def _interaction_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="user id column")
    parser.add_argument("--item", required=True, help="item id column")
    parser.add_argument("--time", help="timestamp column")
    parser.add_argument("--value", help="numeric strength column")
    parser.add_argument("--event", help="event type column (with --weights)")
    parser.add_argument("--weights", help="event weights, e.g. view=1,cart=3,purchase=10")


# -- fit / recommend / similar ------------------------------------------------------------------


def _fit(args, parser) -> int:
    klass = _model_class(args.model, parser)
    frame = read_table(args.events, "events")
    data = _interactions(args, frame, args.events)
    params = parse_params(args.param)
    try:
        model = klass(**params)
    except TypeError as error:
        raise InvalidParameterError(f"--param: {error}") from None
    model.fit(data)
    model.save(args.out)
    print(
        f"fitted {type(model).__name__} on {data.n_users:,} users x {data.n_items:,} items; "
        f"wrote {args.out}"
    )
    return 0


def _load(path: str):
    from ..base import Recommender

    return Recommender.load(path)


def _recommend(args, parser) -> int:
    from ..batch import recommend_all

    model = _load(args.model)
    users = None
    if args.users:
        users = model.user_map_.coerce(first_column(args.users, "users"))
    lists = {}
    for name in ("exclude", "candidates"):
        path = getattr(args, name)
        lists[name] = None if path is None else model.item_map_.coerce(first_column(path, name))
    out = recommend_all(
        model,
        users,
        args.n,
        out=args.out,
        exclude_seen=not args.include_seen,
        exclude_items=lists["exclude"],
        candidates=lists["candidates"],
        unknown=args.unknown,
        chunk_size=args.chunk_size,
        show_progress=_progress(args),
    )
    return _done(out, row_count(out), "recommendations")


def _similar(args, parser) -> int:
    from ..batch import recommendation_rows
    from ..results import RecBatch

    model = _load(args.model)
    items = (
        model.item_map_.array
        if args.items is None
        else model.item_map_.coerce(first_column(args.items, "items"))
    )
    n = args.n
    lists = [model.similar_items(item, n) for item in items]
    width = max([len(r) for r in lists] + [1])
    index = np.full((len(lists), width), -1, np.int32)
    scores = np.full((len(lists), width), -np.inf, np.float32)
    lengths = np.zeros(len(lists), np.int32)
    for row, rec in enumerate(lists):
        index[row, : len(rec)] = rec.item_index
        scores[row, : len(rec)] = rec.scores
        lengths[row] = len(rec)
    batch = RecBatch(np.asarray(items), index, scores, lengths, model.item_map_)
    frame = recommendation_rows(batch).rename(columns={"user": "item", "item": "similar"})
    return _done(write_table(frame, args.out), len(frame), "similar-item rows")


# -- mining ------------------------------------------------------------------------------------


def _as_lists(values: pd.Series, out: str) -> pd.Series:
    """Tuples of ids as lists (Parquet) or JSON text (CSV)."""
    if Path(out).suffix.lower() == ".csv":
        return values.map(lambda t: json.dumps([v.item() if hasattr(v, "item") else v for v in t]))
    return values.map(list)


def _mine(args, parser) -> int:
    from ..mining import association_rules, frequent_itemsets

    frame = read_table(args.baskets, "baskets")
    need_columns(frame, args.baskets, transaction=args.transaction, item=args.item)
    itemsets = frequent_itemsets(
        frame,
        args.min_support,
        kind=args.kind,
        max_len=args.max_len,
        transaction=args.transaction,
        item=args.item,
    )
    rules = None
    if args.rules:
        rules = association_rules(itemsets, args.metric, args.min_threshold).frame
    return _write_patterns(itemsets.frame, "itemset", args.itemsets, rules, args.rules)


def _write_patterns(
    table: pd.DataFrame, column: str, out: str, rules: pd.DataFrame | None, rules_out: str | None
) -> int:
    """Write patterns (and rules) with their id tuples as lists (Parquet) or JSON (CSV)."""
    write_table(table.assign(**{column: _as_lists(table[column], out)}), out)
    message = f"{len(table):,} {column}s to {out}"
    if rules is not None:
        sides = {s: _as_lists(rules[s], rules_out) for s in ("antecedent", "consequent")}
        write_table(rules.assign(**sides), rules_out)
        message += f" and {len(rules):,} rules to {rules_out}"
    print(f"wrote {message}")
    return 0


def _sequences(args, parser) -> int:
    from ..mining import frequent_sequences, sequential_rules

    frame = read_table(args.events, "events")
    need_columns(frame, args.events, session=args.session, item=args.item, time=args.time)
    sequences = frequent_sequences(
        parse_time(frame, args.time, args.events),
        args.min_support,
        session=args.session,
        item=args.item,
        time=args.time,
        max_len=args.max_len,
        max_gap=args.max_gap,
    )
    rules = sequential_rules(sequences, args.min_confidence).frame if args.rules else None
    return _write_patterns(sequences.frame, "sequence", args.out, rules, args.rules)


# -- customers ---------------------------------------------------------------------------------


def _orders(args) -> pd.DataFrame:
    frame = read_table(args.orders, "orders")
    need_columns(frame, args.orders, customer=args.customer, time=args.time, value=args.value)
    return parse_time(frame, args.time, args.orders)


def _rfm(args, parser) -> int:
    from ..customers import RFMScorer, summary

    frame = _orders(args)
    table = summary(frame, customer=args.customer, time=args.time, value=args.value)
    scores = RFMScorer(bins=args.bins).fit_transform(table)
    out = table.join(scores).rename_axis("customer").reset_index()
    return _done(write_table(out, args.out), len(out), "customers")


def _clv(args, parser) -> int:
    from ..batch import score_customers

    out = score_customers(
        _orders(args),
        customer=args.customer,
        time=args.time,
        value=args.value,
        cutoff=args.cutoff,
        out=args.out,
        horizon=args.horizon,
        period=args.period,
        discount_rate=args.discount_rate,
        show_progress=_progress(args),
    )
    return _done(out, row_count(out), "customers")


def _churn(args, parser) -> int:
    from ..customers import ChurnModel

    frame = _orders(args)
    if args.order:
        need_columns(frame, args.orders, order=args.order)
    options = {"customer": args.customer, "time": args.time, "value": args.value}
    if args.order:
        options["order"] = args.order
    model = ChurnModel(horizon=f"{args.horizon}D", random_state=args.seed)
    model.fit(frame, cutoff=args.cutoff, **options)
    risk = model.predict_proba(frame, cutoff=args.cutoff, **options)
    out = risk.rename("p_churn").rename_axis("customer").reset_index()
    out = out.sort_values("p_churn", ascending=False, kind="stable")
    return _done(write_table(out, args.out), len(out), "customers")


# -- evaluate ----------------------------------------------------------------------------------


def _evaluate(args, parser) -> int:
    from ..eval import evaluate, leave_last_n, random_holdout, temporal_split

    frame = read_table(args.events, "events")
    data = _interactions(args, frame, args.events)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    if not names:
        parser.error("--models needs at least one model name")
    models = {name: _model_class(name, parser)() for name in names}
    if args.split == "temporal":
        split = temporal_split(data, quantile=1.0 - args.test_size)
    elif args.split == "leave-last":
        split = leave_last_n(data, 1)
    else:
        split = random_holdout(data, test_size=args.test_size, random_state=args.seed)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    try:
        cutoffs = [int(k) for k in args.k.split(",")]
    except ValueError:
        parser.error(f"--k takes whole numbers such as 10,20; got {args.k!r}")
    result = evaluate(models, split, metrics=metrics, k=cutoffs)
    table = result.summary.reset_index()
    write_table(table, args.out)
    print(table.to_string(index=False))
    return 0


# -- registration ------------------------------------------------------------------------------


def add_commands(commands) -> None:
    p = _command(
        commands,
        "fit",
        "fit a recommender on an events file and save it",
        "reco fit events.csv --user customer_id --item product_id --time ts --event event "
        "--weights view=1,purchase=10 --model EASE --param regularization=300 --out model.npz",
        _fit,
    )
    p.add_argument("events", help="CSV or Parquet file of interactions")
    _interaction_options(p)
    p.add_argument("--model", required=True, help=f"one of {sorted(set(MODELS.values()))}")
    p.add_argument("--param", action="append", help="a model parameter, name=value (repeat)")
    p.add_argument("--out", required=True, help="model file to write (.npz)")

    p = _command(
        commands,
        "recommend",
        "write top-n recommendations for every user (or a users file)",
        "reco recommend model.npz --users users.csv --n 10 --candidates stock.csv "
        "--out recs.parquet",
        _recommend,
    )
    p.add_argument("model", help="a model file written by reco fit or model.save")
    p.add_argument("--users", help="CSV/Parquet whose first column holds user ids")
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--exclude", help="CSV/Parquet of item ids never to recommend")
    p.add_argument("--candidates", help="CSV/Parquet of the only item ids to recommend")
    p.add_argument("--include-seen", action="store_true", help="keep items users already had")
    p.add_argument("--unknown", choices=["raise", "popular", "empty"], default="raise")
    p.add_argument("--chunk-size", type=int, default=20_000)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, help="output file (.parquet or .csv)")

    p = _command(
        commands,
        "similar",
        "write the most similar items of every item (or an items file)",
        "reco similar model.npz --n 5 --out similar.csv",
        _similar,
    )
    p.add_argument("model")
    p.add_argument("--items", help="CSV/Parquet whose first column holds item ids")
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--out", required=True)

    p = _command(
        commands,
        "mine",
        "frequent itemsets and association rules from order lines",
        "reco mine orders.csv --transaction order_id --item product_id --min-support 0.01 "
        "--itemsets itemsets.parquet --rules rules.parquet --metric lift --min-threshold 1.5",
        _mine,
    )
    p.add_argument("baskets", help="CSV/Parquet with one row per (transaction, item)")
    p.add_argument("--transaction", required=True)
    p.add_argument("--item", required=True)
    p.add_argument("--min-support", type=float, required=True, help="fraction, or a count")
    p.add_argument("--kind", choices=["all", "closed", "maximal"], default="all")
    p.add_argument("--max-len", type=int)
    p.add_argument("--itemsets", required=True, help="itemsets output file")
    p.add_argument("--rules", help="rules output file")
    p.add_argument("--metric", default="confidence")
    p.add_argument("--min-threshold", type=float, default=0.5)

    p = _command(
        commands,
        "sequences",
        "frequent sequential patterns (PrefixSpan) and sequential rules",
        "reco sequences events.csv --session customer_id --item product_id --time ts "
        "--min-support 0.01 --out sequences.parquet --rules seqrules.parquet",
        _sequences,
    )
    p.add_argument("events")
    p.add_argument("--session", required=True)
    p.add_argument("--item", required=True)
    p.add_argument("--time")
    p.add_argument("--min-support", type=float, required=True)
    p.add_argument("--max-len", type=int)
    p.add_argument("--max-gap", help="e.g. 7D, or a number for numeric time")
    p.add_argument("--out", required=True)
    p.add_argument("--rules")
    p.add_argument("--min-confidence", type=float, default=0.5)

    for name, summary, example, run in (
        (
            "rfm",
            "recency, frequency and monetary value with RFM scores and segments",
            "reco rfm orders.csv --customer customer_id --time ts --value amount --out rfm.csv",
            _rfm,
        ),
        (
            "clv",
            "RFM, BG/NBD, Gamma-Gamma and lifetime value per customer",
            "reco clv orders.csv --customer customer_id --time ts --value amount --horizon 12 "
            "--out clv.parquet",
            _clv,
        ),
        (
            "churn",
            "fit a churn model and write P(churn) per customer at the cutoff",
            "reco churn orders.csv --customer customer_id --time ts --value amount --horizon 60 "
            "--out churn.csv",
            _churn,
        ),
    ):
        p = _command(commands, name, summary, example, run)
        p.add_argument("orders", help="CSV/Parquet of purchases (one row per order line)")
        p.add_argument("--customer", default="customer_id")
        p.add_argument("--time", default="timestamp")
        p.add_argument("--value", default="value")
        p.add_argument("--out", required=True)
        if name == "rfm":
            p.add_argument("--bins", type=int, default=5)
        if name == "clv":
            p.add_argument("--cutoff")
            p.add_argument("--horizon", type=int, default=12, help="discounting periods")
            p.add_argument("--period", type=float, default=30.0, help="days per period")
            p.add_argument("--discount-rate", type=float, default=0.01)
            p.add_argument("--quiet", action="store_true")
        if name == "churn":
            p.add_argument("--cutoff", help="score as of this date (default: the last purchase)")
            p.add_argument("--horizon", type=int, default=90, help="days")
            p.add_argument("--order", help="order id column (lines per order)")
            p.add_argument("--seed", type=int, default=0)

    p = _command(
        commands,
        "evaluate",
        "compare models on a held-out split and write the metrics table",
        "reco evaluate events.csv --user customer_id --item product_id --time ts "
        "--models Popularity,ItemKNN,EASE --split temporal --metrics ndcg,recall --k 10,20 "
        "--out metrics.csv",
        _evaluate,
    )
    p.add_argument("events")
    _interaction_options(p)
    p.add_argument("--models", required=True, help="comma-separated model names")
    p.add_argument("--split", choices=["random", "temporal", "leave-last"], default="random")
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--metrics", default="ndcg,recall,precision")
    p.add_argument("--k", default="10")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
