"""The demo case stream: cases split by day into chunks, each simulated and encoded.

Each chunk has its own random stream (seeded by the seed and the chunk number), so the
output depends only on (seed, cases, now) and memory stays bounded by the chunk size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

import numpy as np

from cases.demo.draw import draw_cases
from cases.demo.lifecycle import simulate
from cases.demo.rows import Layout, Payloads, Vocabs, encode_chunk
from cases.demo.world import World

CHUNK_CASES = 50_000
T = TypeVar("T")


def day_counts(world: World, cases: int) -> np.ndarray:
    """How many cases open on each local day of the window."""
    return np.random.default_rng([world.seed, 1]).multinomial(cases, world.day_p)


def chunk_ranges(counts: np.ndarray, size: int = CHUNK_CASES) -> list[tuple[int, int]]:
    """Consecutive day ranges [lo, hi) holding about ``size`` cases each."""
    ranges, lo, filled = [], 0, 0
    for day, count in enumerate(counts.tolist()):
        filled += count
        if filled >= size:
            ranges.append((lo, day + 1))
            lo, filled = day + 1, 0
    if filled or not ranges:
        ranges.append((lo, len(counts)))
    return ranges


def generate(world: World, cases: int, layout: Layout | None = None) -> Iterator[Payloads]:
    """Encoded cases, events and surveys, chunk by chunk, with ids numbered from 1."""
    vocabs = Vocabs.of(world)
    layout = layout or Layout()
    counts = day_counts(world, cases)
    digits = max(7, len(str(cases)))
    case_base = event_base = survey_base = 0
    for number, (lo, hi) in enumerate(chunk_ranges(counts)):
        rng = np.random.default_rng([world.seed, 2, number])
        day = np.repeat(np.arange(lo, hi), counts[lo:hi])
        chunk = simulate(world, draw_cases(world, rng, day), rng)
        payloads = encode_chunk(
            chunk,
            vocabs,
            layout,
            case_base=case_base,
            event_base=event_base,
            survey_base=survey_base,
            digits=digits,
        )
        case_base += payloads.n_cases
        event_base += payloads.n_events
        survey_base += payloads.n_surveys
        yield payloads


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Iterate ``items`` produced by a background thread, up to ``depth`` ahead.

    While the database ingests one chunk, the next is generated: numpy and the socket
    writes both release the GIL, so the two overlap on a two-core machine.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(_Failed(error))
        else:
            put(done)

    worker = threading.Thread(target=produce, name="seed-demo-generator", daemon=True)
    worker.start()
    try:
        while (item := buffer.get()) is not done:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
