"""Seeded random DenseNet weights do not depend on what else runs in the process: a Dask
event loop (the run's cluster) draws from Python's global `random` while the model is built."""

from __future__ import annotations

import random
import threading
import time

from hcc_nomogram.features.densenet import make_extractor


def test_random_weights_are_the_same_while_another_thread_draws_random_numbers(
    random_extractor,
):
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            random.random()
            time.sleep(0.0005)

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        busy = make_extractor({"weights": "random", "seed": random_extractor.provenance.seed})
    finally:
        stop.set()
        thread.join()
    for quiet, other in zip(random_extractor.model.weights, busy.model.weights, strict=True):
        assert quiet.numpy().tobytes() == other.numpy().tobytes(), quiet.path
