"""PostgreSQL binary COPY rows built from numpy columns, without a Python loop per row.

Binary COPY needs no number/date formatting and no escaping: each row is a field count
and, per field, a 4-byte length and the value's bytes. Rows are laid out in one byte
buffer and each column is scattered into it with fancy indexing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, no header extension
TRAILER = b"\xff\xff"
PG_EPOCH = 946_684_800  # 2000-01-01T00:00:00Z in Unix seconds
SMALL_VOCAB = 64


class Vocab:
    """A list of strings stored once as UTF-8; text columns hold indexes into it."""

    def __init__(self, words: list[str] | tuple[str, ...]) -> None:
        encoded = [w.encode() for w in words]
        self.lengths = np.array([len(b) for b in encoded], dtype=np.int64)
        self.offsets = np.cumsum(self.lengths) - self.lengths
        self.flat = np.frombuffer(b"".join(encoded) or b"\x00", dtype=np.uint8)


@dataclass(frozen=True)
class Column:
    width: int  # bytes of a fixed-size value; 0 for text
    data: np.ndarray  # (rows, width) uint8 for fixed-size values, vocab indexes for text
    null: np.ndarray | None = None
    vocab: Vocab | None = None


def _fixed(values: np.ndarray, dtype: str, null: np.ndarray | None) -> Column:
    big_endian = np.ascontiguousarray(values, dtype=dtype)
    width = big_endian.dtype.itemsize
    return Column(width, big_endian.view(np.uint8).reshape(-1, width), null)


def int8(values: np.ndarray, null: np.ndarray | None = None) -> Column:
    """A bigint column."""
    return _fixed(values, ">i8", null)


def int4(values: np.ndarray, null: np.ndarray | None = None) -> Column:
    """An integer column."""
    return _fixed(values, ">i4", null)


def int2(values: np.ndarray, null: np.ndarray | None = None) -> Column:
    """A smallint column."""
    return _fixed(values, ">i2", null)


def boolean(values: np.ndarray) -> Column:
    """A boolean column."""
    return _fixed(np.asarray(values, dtype=np.uint8), "u1", None)


def timestamptz(seconds: np.ndarray, null: np.ndarray | None = None) -> Column:
    """A timestamptz column from Unix seconds (microseconds since 2000 on the wire)."""
    return _fixed((np.asarray(seconds, dtype=np.int64) - PG_EPOCH) * 1_000_000, ">i8", null)


def text(codes: np.ndarray, vocab: Vocab, null: np.ndarray | None = None) -> Column:
    """A text/varchar column whose values are ``vocab`` entries."""
    return Column(0, np.asarray(codes, dtype=np.int64), null, vocab)


def fixed_text(prefix: str, numbers: np.ndarray, digits: int) -> Column:
    """ASCII ``prefix`` + zero-padded ``numbers``, e.g. external ids ``DEMO-0000042``."""
    numbers = np.asarray(numbers, dtype=np.int64)
    powers = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)
    digit_bytes = ((numbers[:, None] // powers) % 10 + 48).astype(np.uint8)
    head = np.broadcast_to(np.frombuffer(prefix.encode(), np.uint8), (len(numbers), len(prefix)))
    return Column(len(prefix) + digits, np.hstack([head, digit_bytes]))


def _scatter(buf: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    width = values.shape[1]
    buf[at[:, None] + np.arange(width)] = values


def encode(columns: list[Column]) -> memoryview:
    """The binary COPY rows (no header or trailer) for equally long ``columns``."""
    n = len(columns[0].data)
    sizes = []
    for col in columns:
        size = np.full(n, col.width, np.int64) if col.vocab is None else col.vocab.lengths[col.data]
        if col.null is not None:
            size = np.where(col.null, 0, size)
        sizes.append(size)
    row_len = 2 + 4 * len(columns) + np.sum(sizes, axis=0) if n else np.zeros(0, np.int64)
    start = np.cumsum(row_len) - row_len
    buf = np.empty(int(row_len.sum()), dtype=np.uint8)
    _scatter(buf, start, np.broadcast_to(np.array([0, len(columns)], np.uint8), (n, 2)))
    at = start + 2
    for col, size in zip(columns, sizes, strict=True):
        length = size if col.null is None else np.where(col.null, -1, size)
        _scatter(buf, at, length.astype(">i4").view(np.uint8).reshape(n, 4))
        at = at + 4
        if col.vocab is None:
            rows = slice(None) if col.null is None else ~col.null
            _scatter(buf, at[rows], col.data[rows])
        else:
            _copy_text(buf, at, size, col.data, col.vocab)
        at = at + size
    return memoryview(buf)


def _copy_text(
    buf: np.ndarray, at: np.ndarray, size: np.ndarray, codes: np.ndarray, vocab: Vocab
) -> None:
    """Copy each row's vocab entry into place: one gather/scatter over all characters."""
    rows = np.flatnonzero(size)
    if len(rows) == 0:
        return
    lengths = size[rows]
    total = int(lengths.sum())
    within = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    dst = np.repeat(at[rows], lengths) + within
    src = np.repeat(vocab.offsets[codes[rows]], lengths) + within
    buf[dst] = vocab.flat[src]
