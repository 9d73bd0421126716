"""Readers for public formats, from a path the user gives (reco ships no third-party data).

* :func:`read_movielens`: ml-100k ``u.data`` (tab-separated, no header) and the ml-latest
  ``ratings.csv`` layout (``userId,movieId,rating,timestamp``), plain or gzipped, or a folder
  holding one of them.
* :func:`read_cdnow`: ``CDNOW_master.txt`` (and the 1/10 ``CDNOW_sample.txt``).
* :func:`read_arff_baskets`: market-basket ARFF files such as Weka's ``supermarket.arff``.
* :func:`read_events`: a generic CSV or Parquet event file.
"""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data import Baskets, IdMap
from ..exceptions import DataValidationError

__all__ = ["read_arff_baskets", "read_cdnow", "read_events", "read_movielens"]


def _existing(path: str | os.PathLike, what: str) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{what}: no file or folder at {str(path)!r}.")
    return path


def _first_line(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="latin-1") as handle:
            return handle.readline()
    except (OSError, EOFError) as error:
        raise DataValidationError(f"cannot read {str(path)!r}: {error}.") from None


def read_movielens(path: str | os.PathLike) -> pd.DataFrame:
    """MovieLens ratings as a frame ``user_id, item_id, rating, timestamp`` (datetime, UTC).

    ``path`` is a ``u.data``/``ratings.csv`` file (optionally ``.gz``) or a folder holding one.

    Parameters
    ----------
    path : str or Path
        A ratings file or the folder of a MovieLens release.

    Returns
    -------
    DataFrame

    Raises
    ------
    DataValidationError
        No ratings file found, or a row that does not parse.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("u.data").write_text("196\\t242\\t3\\t881250949\\n186\\t302\\t3\\t891717742\\n")
    >>> read_movielens("u.data")
       user_id  item_id  rating           timestamp
    0      196      242     3.0 1997-12-04 15:55:49
    1      186      302     3.0 1998-04-04 19:22:22
    """
    path = _existing(path, "read_movielens")
    if path.is_dir():
        names = ("u.data", "u.data.gz", "ratings.csv", "ratings.csv.gz")
        found = [path / n for n in names if (path / n).is_file()]
        if not found:
            raise DataValidationError(
                f"read_movielens: folder {str(path)!r} holds none of {list(names)}; pass the "
                "ratings file itself."
            )
        path = found[0]
    first = _first_line(path)
    if first.lower().startswith("userid"):
        frame = pd.read_csv(
            path,
            dtype={
                "userId": np.int64,
                "movieId": np.int64,
                "rating": np.float32,
                "timestamp": np.int64,
            },
        )
        frame.columns = ["user_id", "item_id", "rating", "timestamp"]
    elif first.count("\t") == 3:
        frame = pd.read_csv(
            path,
            sep="\t",
            header=None,
            names=["user_id", "item_id", "rating", "timestamp"],
            dtype={
                "user_id": np.int64,
                "item_id": np.int64,
                "rating": np.float32,
                "timestamp": np.int64,
            },
        )
    else:
        raise DataValidationError(
            f"read_movielens: {str(path)!r} is neither the u.data layout (user, item, rating, "
            "timestamp separated by tabs) nor ratings.csv (header userId,movieId,rating,"
            f"timestamp); its first line is {first[:80]!r}."
        )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s")
    return frame


def read_cdnow(path: str | os.PathLike) -> pd.DataFrame:
    """CDNOW transactions as ``customer_id`` (str), ``date``, ``quantity``, ``value``.

    Reads the master file (4 columns with a header) or the 1/10 sample (5 columns, no header;
    the master id is ``customer_id`` and the sample's own 1..2357 numbering ``sample_id``,
    the order of the published calibration summary).

    Parameters
    ----------
    path : str or Path
        ``CDNOW_master.txt`` or ``CDNOW_sample.txt`` (optionally ``.gz``).

    Returns
    -------
    DataFrame
        One row per purchase.

    Raises
    ------
    DataValidationError
        The file has neither layout, or a date or amount does not parse.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("cdnow.txt").write_text("customer_id date number_of_cds dollar_value\\n"
    ...                                  "00001 19970101 1 11.77\\n00002 19970112 1 12.00\\n")
    >>> read_cdnow("cdnow.txt")
      customer_id       date  quantity  value
    0       00001 1997-01-01         1  11.77
    1       00002 1997-01-12         1  12.00
    """
    path = _existing(path, "read_cdnow")
    first = _first_line(path).split()
    if first and first[0] == "customer_id":
        frame = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
        frame.columns = ["customer_id", "date", "quantity", "value"]
    elif len(first) == 5:
        frame = pd.read_csv(
            path,
            sep=r"\s+",
            header=None,
            dtype={0: str, 2: str},
            names=["customer_id", "sample_id", "date", "quantity", "value"],
        )
    else:
        raise DataValidationError(
            f"read_cdnow: {str(path)!r} does not look like CDNOW_master.txt (header "
            f"'customer_id date number_of_cds dollar_value'); first line: {first!r}."
        )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def read_arff_baskets(
    path: str | os.PathLike, *, present: str = "t", include_other: bool = False
) -> Baskets:
    """Baskets from an ARFF file whose attributes are items marked ``present`` (e.g. ``t``).

    Attributes whose nominal values are not just ``{present}`` (such as Weka supermarket's
    ``total {low, high}``) are skipped, or with ``include_other=True`` become items
    ``"name=value"``. ``?`` means absent.

    Parameters
    ----------
    path : str or Path
        An ``.arff`` file, optionally gzip-compressed.
    present : str
        The nominal value that marks an item as in the basket.
    include_other : bool
        Keep attributes with other values as ``"name=value"`` items.

    Returns
    -------
    Baskets

    Raises
    ------
    DataValidationError
        The file is not ARFF, or a row has the wrong number of values.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("shop.arff").write_text(
    ...     "@relation shop\\n@attribute milk {t}\\n@attribute bread {t}\\n"
    ...     "@attribute total {low,high}\\n@data\\nt,t,high\\nt,?,low\\n")
    >>> read_arff_baskets("shop.arff").to_lists()
    [['milk', 'bread'], ['milk']]
    """
    path = _existing(path, "read_arff_baskets")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="latin-1") as handle:
        text = handle.read()
    lower = text.lower()
    at = lower.find("@data")
    if at < 0:
        raise DataValidationError(f"read_arff_baskets: {str(path)!r} has no @data section.")
    names, binary = [], []
    for line in text[:at].splitlines():
        stripped = line.strip()
        if not stripped.lower().startswith("@attribute"):
            continue
        rest = stripped[len("@attribute") :].strip()
        if rest.startswith(("'", '"')):
            quote = rest[0]
            end = rest.index(quote, 1)
            name, spec = rest[1:end], rest[end + 1 :].strip()
        else:
            name, _, spec = rest.partition(" ")
        spec = spec.split("%")[0].strip()
        values = (
            [v.strip().strip("'\"") for v in spec.strip("{}").split(",")]
            if spec.startswith("{")
            else None
        )
        names.append(name)
        binary.append(values == [present])
    if not names:
        raise DataValidationError(f"read_arff_baskets: {str(path)!r} declares no attributes.")
    body = text[at + len("@data") :]
    table = pd.read_csv(
        io.StringIO(body),
        header=None,
        names=names,
        dtype=str,
        na_values=["?"],
        keep_default_na=False,
        comment="%",
        skipinitialspace=True,
    )
    rows, items, item_names = [], [], []
    for position, name in enumerate(names):
        column = table[name].to_numpy()
        present_mask = pd.notna(column)
        if binary[position]:
            hits = np.flatnonzero(present_mask & (column == present))
            rows.append(hits)
            items.append(np.full(hits.size, len(item_names)))
            item_names.append(name)
        elif include_other:
            for value in pd.unique(column[present_mask]):
                hits = np.flatnonzero(column == value)
                rows.append(hits)
                items.append(np.full(hits.size, len(item_names)))
                item_names.append(f"{name}={value}")
    from ..data.baskets import _incidence

    matrix = _incidence(np.concatenate(rows), np.concatenate(items), len(table), len(item_names))
    return Baskets(
        matrix, IdMap.range(len(table), name="transaction"), IdMap(item_names, name="item")
    )


def read_events(
    path: str | os.PathLike, *, format: str | None = None, **kwargs: Any
) -> pd.DataFrame:
    """A generic event file: CSV (optionally compressed) or Parquet, chosen by suffix.

    Keyword arguments go to :func:`pandas.read_csv` or :func:`pandas.read_parquet`. Parquet
    needs the ``parquet`` extra (``pip install "reco[parquet]"``).

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (``.gz``, ``.bz2``, ``.zip``, ``.xz``) or ``.parquet`` file.
    format : {"csv", "parquet"}, optional
        Overrides the suffix.
    **kwargs
        Passed to the pandas reader.

    Returns
    -------
    DataFrame

    Raises
    ------
    DataValidationError
        The file does not exist or cannot be read.
    NotSupportedError
        Parquet without pyarrow.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("events.csv").write_text(
    ...     "customer,sku,ts\\nann,tea,2024-01-02\\nbob,cups,2024-01-03\\n")
    >>> read_events("events.csv").shape
    (2, 3)
    """
    path = _existing(path, "read_events")
    suffixes = [s.lower() for s in path.suffixes]
    if format is None:
        format = "parquet" if ".parquet" in suffixes or ".pq" in suffixes else "csv"
    if format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError(
                "reading Parquet needs pyarrow: pip install 'reco[parquet]'"
            ) from None
        return pd.read_parquet(path, **kwargs)
    if format == "csv":
        return pd.read_csv(path, **kwargs)
    raise DataValidationError(f"format must be 'csv' or 'parquet'; got {format!r}.")
