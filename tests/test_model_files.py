"""A model file is untrusted input: tampered files are refused before they can serve.

Every tampered file is loaded and served in a child process, so a crash (SIGSEGV, SIGABRT)
fails the test instead of ending the run.
"""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from reco import _persist
from reco.base import Recommender
from reco.datasets import make_shop
from reco.exceptions import DataValidationError, InvalidParameterError
from reco.models import EASE, SLIM, AssociationRuleRecommender, ItemKNN, Popularity, RP3beta
from reco.testing import check_model_file, conformance_data

CHILD = r"""
import json, sys
import numpy as np
from reco.base import Recommender
from reco.exceptions import RecoError
out = {}
for path in sys.argv[1:]:
    print("TRY", path, file=sys.stderr, flush=True)
    try:
        model = Recommender.load(path)
    except RecoError as error:
        out[path] = ["refused", type(error).__name__, str(error)]
        continue
    users = model.user_map_.ids(np.arange(len(model.user_map_)))
    model.recommend_batch(users, 10)
    model.recommend_for_items(model.item_map_.ids(np.arange(3)), 10)
    try:
        model.similar_items(model.item_map_.ids(np.array([0]))[0], 5)
    except RecoError:
        pass
    out[path] = ["loaded", "", ""]
print(json.dumps(out))
"""


def _read(path):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    header = json.loads(arrays.pop("__header__").tobytes())
    return header, arrays


def _write(path, header, arrays):
    payload = dict(arrays)
    payload["__header__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **payload)


def _csr(name):
    """Tamperings of one CSR attribute: (label, change, words expected in the message)."""

    def set_(part, edit):
        def change(header, arrays):
            key = f"s/{name}/{part}"
            arrays[key] = edit(arrays[key].copy())

        return change

    def first_five(a):
        a[:5] = -(2**30)
        return a

    def past_end(a):
        a[-1] += 5
        return a

    def non_monotone(a):
        a[1], a[2] = a[2] + 3, a[1]
        return a

    def unsorted_row(a):
        a[:2] = a[:2][::-1]
        return a

    def nan(a):
        a[0] = np.nan
        return a

    def out_of_range(a):
        a[0] = 10**6
        return a

    return [
        (f"{name} indices -2**30", set_("indices", first_five), "indices"),
        (f"{name} index past the columns", set_("indices", out_of_range), "indices"),
        (f"{name} indptr past the end", set_("indptr", past_end), "indptr"),
        (f"{name} indptr not monotone", set_("indptr", non_monotone), "indptr"),
        (f"{name} unsorted row", set_("indices", unsorted_row), "sorted"),
        (f"{name} NaN data", set_("data", nan), "NaN"),
        (f"{name} float64 data", set_("data", lambda a: a.astype(np.float64)), "dtype"),
        (f"{name} int16 indices", set_("indices", lambda a: a.astype(np.int16)), "int32"),
    ]


def _header(key, edit):
    def change(header, arrays):
        edit(header[key] if key else header)

    return change


def _arrays(key, edit):
    def change(header, arrays):
        arrays[key] = edit(arrays[key])

    return change


COMMON = [
    (
        "a method name as attribute",
        _header("attributes", lambda a: a.update(_check_fitted_=1)),
        "not allowed",
    ),
    (
        "a private attribute",
        _header("attributes", lambda a: a.update(_check_fitted=1)),
        "not allowed",
    ),
    ("an extra attribute", _header("attributes", lambda a: a.update(foo_=1)), "foo_"),
    (
        "a string parameter",
        _header("params", lambda p: p.update(n_threads="DROP TABLE")),
        "n_threads",
    ),
    ("an unknown parameter", _header("params", lambda p: p.update(evil=1)), "evil"),
    (
        "a missing attribute",
        _header("layout", lambda layout: layout.pop("item_popularity_")),
        "belong to no attribute",
    ),
    ("popularity cut short", _arrays("a/item_popularity_", lambda a: a[:-1]), "shape"),
    ("popularity as int64", _arrays("a/item_popularity_", lambda a: a.astype(np.int64)), "dtype"),
    ("popularity NaN", _arrays("a/item_popularity_", lambda a: np.full_like(a, np.nan)), "NaN"),
    (
        "history shape grown",
        _header(
            "layout",
            lambda layout: layout["history_"].update(
                shape=[layout["history_"]["shape"][0] + 1, layout["history_"]["shape"][1]]
            ),
        ),
        "indptr",
    ),
    ("user id offsets broken", _arrays("m/user_map_/offsets", lambda a: a[::-1].copy()), "rise"),
    ("user ids not text", _arrays("m/user_map_/utf8", lambda a: np.full_like(a, 0xFF)), "text"),
    ("duplicate user ids", _arrays("m/user_map_/utf8", lambda a: np.full_like(a, 65)), "unique"),
    ("offsets as float", _arrays("m/user_map_/offsets", lambda a: a.astype(np.float64)), "int64"),
]


@pytest.fixture(scope="module")
def data():
    return conformance_data()


MODELS = {
    "ItemKNN": (ItemKNN(k=5), ["weights_", "history_"]),
    "RP3beta": (RP3beta(k=5), ["weights_", "history_"]),
    "SLIM": (SLIM(max_iter=20), ["weights_"]),
    "EASE": (EASE(regularization=10.0), ["history_"]),
    "EASE-pruned": (EASE(regularization=10.0, prune=5), ["weights_"]),
    "Popularity": (Popularity(), ["history_"]),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_tampered_files_are_refused_in_a_child_process(name, data, tmp_path):
    estimator, csr_names = MODELS[name]
    model = estimator.fit(data)
    good = tmp_path / "good.npz"
    model.save(good)
    header, arrays = _read(good)
    cases = list(COMMON)
    for csr in csr_names:
        cases += _csr(csr)
    # a header that claims another class, with that class's own valid parameters
    other = ItemKNN() if name == "Popularity" else Popularity()
    claim = {"class": f"{type(other).__module__}.{type(other).__qualname__}"}
    params = json.loads(json.dumps(other.get_params()))
    cases.append(
        (
            "another class claimed",
            _header(None, lambda h: h.update(claim, params=params)),
            "not part of this model",
        )
    )
    paths, expected = [], {}
    for k, (label, change, words) in enumerate(cases):
        h, a = json.loads(json.dumps(header)), {key: v.copy() for key, v in arrays.items()}
        change(h, a)
        path = tmp_path / f"case{k}.npz"
        _write(path, h, a)
        paths.append(str(path))
        expected[str(path)] = (label, words)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(good), *paths], capture_output=True, text=True
    )
    last = done.stderr.strip().splitlines()[-1:] if done.stderr else []
    assert done.returncode == 0, (
        f"the child died ({done.returncode}) at {last}: {done.stderr[-800:]}"
    )
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results[str(good)][0] == "loaded"
    for path, (label, words) in expected.items():
        outcome, error, message = results[path]
        assert outcome == "refused", f"{name}: {label} was loaded"
        assert error == "DataValidationError", f"{name}: {label}: {error}: {message}"
        assert words in message, f"{name}: {label}: {message!r} lacks {words!r}"


def test_rule_recommender_files_are_checked(tmp_path):
    shop = make_shop(300, 40, random_state=0)
    from reco.data import Interactions

    X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    orders = shop.order_lines.rename(
        columns={"order_id": "transaction_id", "product_id": "item_id"}
    )
    model = AssociationRuleRecommender(min_support=0.01).fit(X, baskets=orders)
    good = tmp_path / "rules.npz"
    model.save(good)
    header, arrays = _read(good)
    assert Recommender.load(good).recommend_batch([1, 2], 3).items.shape == (2, 3)
    for key, edit, words in [
        ("a/rule_consequents_", lambda a: a + 10**6, "rule_consequents_"),
        ("a/rule_antecedents_", lambda a: a - 10, "rule_antecedents_"),
        ("a/pair_keys_", lambda a: a[::-1].copy(), "pair_keys_"),
        ("s/single_weights_/indices", lambda a: -a - 1, "indices"),
    ]:
        a = {k: v.copy() for k, v in arrays.items()}
        a[key] = edit(a[key])
        if key == "a/pair_keys_" and a[key].size < 2:
            continue
        path = tmp_path / "bad.npz"
        _write(path, header, a)
        with pytest.raises(DataValidationError, match=words):
            Recommender.load(path)


def _zip_member(path, name, header_dict, payload):
    """A zip holding one .npy member whose header we write ourselves."""
    raw = np.lib.format.magic(1, 0)
    text = repr(header_dict).encode("latin1")
    text += b" " * (63 - (len(raw) + 2 + len(text)) % 64) + b"\n"
    raw += len(text).to_bytes(2, "little") + text + payload
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, raw)


def test_sizes_are_bounded_before_anything_is_inflated(data, tmp_path):
    model = Popularity().fit(data)
    good = tmp_path / "good.npz"
    model.save(good)
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(good.read_bytes())
    _zip_member(
        bomb,
        "a/extra.npy",
        {"descr": "<f8", "fortran_order": False, "shape": (2**23,)},
        bytes(8 * 2**23),
    )
    assert bomb.stat().st_size < 200_000  # 64 MiB of zeros compress to very little
    with pytest.raises(DataValidationError, match="max_bytes"):
        Recommender.load(bomb, max_bytes=16 * 2**20)
    with pytest.raises(DataValidationError, match="would inflate"):
        Recommender.load(bomb)  # within the size limit, refused for its ratio before reading
    liar = tmp_path / "liar.npz"
    liar.write_bytes(good.read_bytes())
    _zip_member(
        liar, "a/huge.npy", {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}, bytes(16)
    )
    with pytest.raises(DataValidationError, match="declares shape"):
        Recommender.load(liar)
    objects = tmp_path / "objects.npz"
    objects.write_bytes(good.read_bytes())
    _zip_member(
        objects,
        "a/pickled.npy",
        {"descr": "|O", "fortran_order": False, "shape": (1,)},
        b"\x80\x04N.",
    )
    with pytest.raises(DataValidationError, match="Python objects"):
        Recommender.load(objects)
    with pytest.raises(InvalidParameterError, match="max_bytes"):
        Recommender.load(good, max_bytes=0)


def test_save_refuses_bad_paths_and_cleans_up(data, tmp_path):
    model = Popularity().fit(data)
    for bad in ("", None, 3):
        with pytest.raises(InvalidParameterError, match="path"):
            model.save(bad)
    with pytest.raises(InvalidParameterError, match="is a folder"):
        model.save(tmp_path)
    # a temporary file from a killed save (dead process) is removed by the next save
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    import socket

    host = socket.gethostname().replace(".", "_")
    stale = tmp_path / f".model.npz.{host}.{dead}.abc123.tmp"
    stale.write_bytes(b"half a model")
    alive = tmp_path / f".model.npz.{host}.{os.getppid()}.def456.tmp"
    alive.write_bytes(b"another process is writing")
    model.save(tmp_path / "model.npz")
    assert not stale.exists() and alive.exists()
    user = data.user_map.array[0]
    assert Recommender.load(tmp_path / "model.npz").recommend(user, 3) == model.recommend(user, 3)


def test_uint64_ids_survive_a_file(tmp_path):
    import pandas as pd

    from reco.data import Interactions

    ids = np.array([2**63 + 5, 2**64 - 1, 7], dtype=np.uint64)
    frame = pd.DataFrame({"user_id": ids, "item_id": ids[::-1]})
    model = Popularity().fit(Interactions.from_frame(frame))
    model.save(tmp_path / "m.npz")
    loaded = Recommender.load(tmp_path / "m.npz")
    assert loaded.user_map_.array.tolist() == model.user_map_.array.tolist()
    assert sorted(loaded.user_map_.array.tolist()) == sorted(ids.tolist())


def test_check_model_file(data, tmp_path):
    model = ItemKNN(k=5).fit(data)
    good = tmp_path / "good.npz"
    model.save(good)
    report = check_model_file(good)
    assert report["class"] == "ItemKNN" and report["n_items"] == len(model.item_map_)
    assert report["checked"] == ["load", "recommend_batch", "recommend_for_items", "similar_items"]
    assert check_model_file(good, isolated=False) == report
    header, arrays = _read(good)
    arrays["s/weights_/indices"] = arrays["s/weights_/indices"].copy()
    arrays["s/weights_/indices"][:5] = -(2**30)
    bad = tmp_path / "bad.npz"
    _write(bad, header, arrays)
    with pytest.raises(DataValidationError, match="indices"):
        check_model_file(bad)
    with pytest.raises(FileNotFoundError):
        check_model_file(tmp_path / "missing.npz")


def test_dense_ease_weights_are_c_ordered_after_load(data, tmp_path):
    model = EASE(regularization=10.0).fit(data)
    model.save(tmp_path / "e.npz")
    assert Recommender.load(tmp_path / "e.npz").weights_.flags.c_contiguous


def test_the_persist_limit_is_documented():
    assert _persist.MAX_FILE_BYTES == 4 * 2**30
    assert "max_bytes" in Recommender.load.__doc__
    assert Path(_persist.__file__).is_file()


def _data_offsets(path):
    """Where each member's array data start in the file."""
    import struct

    offsets = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        for info in archive.infolist():
            raw.seek(info.header_offset)
            local = raw.read(30)
            name_length, extra_length = struct.unpack("<HH", local[26:30])
            start = info.header_offset + 30 + name_length + extra_length
            raw.seek(start)
            version = np.lib.format.read_magic(raw)
            if version == (1, 0):
                np.lib.format.read_array_header_1_0(raw)
            else:
                np.lib.format.read_array_header_2_0(raw)
            offsets[info.filename] = raw.tell()
    return offsets


def test_saved_arrays_are_aligned_and_large_ones_mapped(data, tmp_path):
    """save() aligns every array on 64 bytes (still a plain .npz); load(mmap=True) maps them
    in place (read-only, equal results, the pages shared); the default copies them."""
    model = EASE(regularization=10.0).fit(data)
    path = tmp_path / "ease.npz"
    model.save(path)
    assert all(offset % 64 == 0 for offset in _data_offsets(path).values())
    assert np.array_equal(np.load(path)["a/weights_"], model.weights_)
    expected = model.recommend_batch(model.user_map_.array, 5)
    mapped = Recommender.load(path, mmap=True)
    assert not mapped.weights_.flags.writeable and mapped.weights_.flags.c_contiguous
    copied = Recommender.load(path, mmap=False)
    assert copied.weights_.flags.writeable
    for loaded in (mapped, copied, Recommender.load(path)):
        got = loaded.recommend_batch(loaded.user_map_.array, 5)
        np.testing.assert_array_equal(got.scores, expected.scores)
    # a new file renamed over the mapped one (what save does) leaves the loaded model intact
    EASE(regularization=99.0).fit(data).save(path)
    np.testing.assert_array_equal(
        mapped.recommend_batch(mapped.user_map_.array, 5).scores, expected.scores
    )
    with pytest.raises(InvalidParameterError, match="mmap"):
        Recommender.load(path, mmap="yes")


def test_unaligned_and_truncated_members(data, tmp_path):
    """A file written by numpy.savez (members not aligned) loads by copying; a truncated
    member that would be mapped is refused."""
    model = EASE(regularization=10.0).fit(data)
    path = tmp_path / "ease.npz"
    model.save(path)
    arrays = dict(np.load(path))
    plain = tmp_path / "plain.npz"
    np.savez(plain, **arrays)
    loaded = Recommender.load(plain, mmap=True)
    np.testing.assert_array_equal(loaded.weights_, model.weights_)
    raw = path.read_bytes()
    start = _data_offsets(path)["a/weights_.npy"]
    cut = tmp_path / "cut.npz"
    cut.write_bytes(raw[: start + 10] + raw[start + 10 + 64 :])  # 64 bytes of data gone
    with pytest.raises(DataValidationError):
        Recommender.load(cut, mmap=True)


def test_rule_files_from_before_kept_counts_still_load(tmp_path):
    """A rule model written before the model kept its itemsets' counts loads, serves the
    same lists and, asked to forget, mines again (or says what it needs)."""
    from reco.data import Interactions
    from reco.exceptions import NotSupportedError

    shop = make_shop(300, 40, random_state=0)
    X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    orders = shop.order_lines.rename(columns={"order_id": "transaction_id",
                                              "product_id": "item_id"})  # fmt: skip
    for baskets in (None, orders):
        model = AssociationRuleRecommender(min_support=0.01).fit(X, baskets=baskets)
        path = tmp_path / "rules.npz"
        model.save(path)
        header, arrays = _read(path)
        for key in ("s/itemsets_/data", "s/itemsets_/indices", "s/itemsets_/indptr",
                    "a/itemset_counts_"):  # fmt: skip
            del arrays[key]
        for name in ("n_baskets_", "min_count_", "itemsets_", "itemset_counts_"):
            header["attributes"].pop(name, None)
            header.get("layout", {}).pop(name, None)
        _write(path, header, arrays)
        old = Recommender.load(path)
        users = X.user_map.array[:20]
        np.testing.assert_array_equal(old.recommend_batch(users, 3).item_index,
                                      model.recommend_batch(users, 3).item_index)  # fmt: skip
        gone = X.user_map.array[:2].tolist()
        if baskets is None:
            assert old.forget_users(gone).n_baskets_ == X.n_users - 2  # mined again
        else:
            with pytest.raises(NotSupportedError, match="predates"):
                old.forget_users(gone, removed_baskets=orders[:3])
