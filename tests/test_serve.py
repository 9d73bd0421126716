"""`reco serve`: a real uvicorn server on 127.0.0.1 answers, refuses bad input with 4xx, and
picks up a new model file without a restart."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pytest

from reco.models import ItemKNN, Popularity
from reco.testing import conformance_data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(port: int, path: str, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def data():
    return conformance_data()


def _start(path, *options):
    """A real ``reco serve`` on a free port; returns (process, port) once /health answers."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "reco.cli", "serve", str(path), "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _ = _call(port, "/health")
            if status == 200:
                return process, port
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            _, err = process.communicate(timeout=5)
            pytest.fail(f"server did not start: {err.decode()[-2000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("serve") / "model.npz"
    model = ItemKNN(k=10).fit(data)
    model.save(path)
    process, port = _start(path, "--reload-interval", "0.05")
    yield port, path, model
    process.terminate()
    process.wait(timeout=20)


def test_mapped_model_with_two_workers_answers_and_swaps(tmp_path, data):
    """--mmap --workers 2: the arrays are mapped in each worker; answers equal the library's
    and a model saved over the file (by rename) replaces it."""
    path = tmp_path / "model.npz"
    first = ItemKNN(k=10).fit(data)
    first.save(path)
    process, port = _start(path, "--mmap", "--workers", "2", "--reload-interval", "0.05")
    try:
        for _ in range(4):  # both workers
            status, answer = _call(port, "/recommend?user=u03&n=5")
            assert status == 200 and answer["items"] == first.recommend("u03", 5).items.tolist()
        second = Popularity().fit(data)
        second.save(path)
        expected = second.recommend("u03", 5).items.tolist()
        deadline = time.monotonic() + 20
        hits = 0
        while hits < 4 and time.monotonic() < deadline:
            status, answer = _call(port, "/recommend?user=u03&n=5")
            assert status == 200
            hits = hits + 1 if answer["items"] == expected else 0
            time.sleep(0.05)
        assert hits == 4, "the workers did not all pick up the new model"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_recommend_matches_the_library(server, data):
    port, _, model = server
    for user in ["u00", "u17", "u29"]:
        status, answer = _call(port, f"/recommend?user={user}&n=5")
        assert status == 200
        expected = model.recommend(user, 5)
        assert answer["user"] == user
        assert answer["items"] == expected.items.tolist()
        np.testing.assert_allclose(answer["scores"], expected.scores, rtol=1e-6)
    status, answer = _call(port, "/recommend?user=u00&n=3&exclude=i01,i02&candidates=i01,i03,i04")
    expected = model.recommend(
        "u00", 3, exclude_items=["i01", "i02"], candidates=["i01", "i03", "i04"]
    )
    assert status == 200 and answer["items"] == expected.items.tolist()


def test_cart_and_similar(server):
    port, _, model = server
    body = json.dumps({"items": ["i01", "i02"], "n": 4}).encode()
    status, answer = _call(port, "/recommend_for_items", body)
    assert status == 200
    assert answer["items"] == model.recommend_for_items(["i01", "i02"], 4).items.tolist()
    status, answer = _call(port, "/similar?item=i03&n=3")
    assert status == 200
    assert answer["items"] == model.similar_items("i03", 3).items.tolist()


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/recommend?user=nobody", None, 404, "not known"),
        ("/recommend?user=u00&n=0", None, 400, "n must be"),
        ("/recommend?user=u00&n=abc", None, 400, "n must be an integer"),
        ("/recommend?n=3", None, 400, "needs ?user"),
        ("/recommend?user=u00&colour=red", None, 400, "unexpected query parameter"),
        ("/recommend?user=u00&exclude_seen=maybe", None, 400, "exclude_seen"),
        ("/recommend?user=u00&n=1001", None, 400, "n must be"),
        ("/similar?item=nothing", None, 404, "not known"),
        ("/recommend_for_items", b"{not json", 400, "not valid JSON"),
        ("/recommend_for_items", b"[1, 2]", 400, "JSON object"),
        ("/recommend_for_items", b'{"items": "i01"}', 400, "must be a JSON list"),
        ("/recommend_for_items", b'{"items": ["i01"], "n": 1.5}', 400, "n must be"),
        ("/recommend_for_items", b'{"items": ["i01"], "extra": 1}', 400, "unexpected field"),
        ("/recommend_for_items", b'{"items": ["zz"]}', 404, "not known"),
        ("/recommend_for_items", b'{"items": ["i01"], "unknown": "maybe"}', 400, "unknown must"),
    ],
)
def test_bad_input_is_a_4xx_with_the_message(server, path, body, status, fragment):
    port, _, _ = server
    got, answer = _call(port, path, body)
    assert got == status, answer
    assert fragment in answer["error"]


def test_oversized_body_is_refused(server):
    port, _, _ = server
    body = json.dumps({"items": ["i01"] * 200_000}).encode()
    status, answer = _call(port, "/recommend_for_items", body)
    assert status == 413
    assert "limit" in answer["error"]


def test_hot_swap_picks_up_a_new_model(server, data):
    port, path, old = server
    _, before = _call(port, "/health")
    assert before["model"] == "ItemKNN"
    replacement = Popularity().fit(data)
    replacement.save(path)  # temporary file + rename, as reco writes every model
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, health = _call(port, "/health")
        if health["model"] == "Popularity":
            break
        status, answer = _call(port, "/recommend?user=u00&n=5")
        assert status == 200  # requests keep succeeding during the swap
        time.sleep(0.05)
    assert health["model"] == "Popularity" and health["reload_error"] is None
    _, answer = _call(port, "/recommend?user=u00&n=5")
    assert answer["items"] == replacement.recommend("u00", 5).items.tolist()
    # a damaged file is reported and the current model stays
    path.write_bytes(b"not a model")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, health = _call(port, "/health")
        if health["reload_error"]:
            break
        time.sleep(0.05)
    assert "DataValidationError" in health["reload_error"]
    status, answer = _call(port, "/recommend?user=u00&n=5")
    assert status == 200 and answer["items"] == replacement.recommend("u00", 5).items.tolist()
    old.save(path)  # leave the fixture's model in place for other tests


def test_serve_refuses_a_bad_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    done = subprocess.run(
        [sys.executable, "-m", "reco.cli", "serve", str(bad), "--port", str(_free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "cannot serve" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "reco.cli", "serve", str(bad), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--port" in done.stderr
