"""The content digest of a deal version: 64 bits that say whether two versions of a deal are the same.

The store keeps each version's digest and compares it with the digest of
the export's row, so the digest must come out the same on every machine,
in every run and with every release of polars and numpy: it is defined
here, not borrowed (``polars.Expr.hash`` may change between polars
versions). It is computed a column at a time over whole arrays, with no
Python code per row.

Definition, for a row of columns ``c_1 … c_n`` (in a fixed order):

- each value becomes one 64-bit word ``v``: a string, its UTF-8 bytes
  read as little-endian 8-byte words (the last one zero-padded), each
  word folded in with :func:`_round` starting from ``len(bytes)``, then
  :func:`_finish`; a float, its IEEE-754 bits (``-0.0`` as ``0.0``, every
  NaN as one NaN); an integer, its two's complement; a date, its day
  number since 1970-01-01; a boolean, 0 or 1; null, :data:`NULL_WORD`;
- the row's digest is ``_finish(h_n)`` where ``h_0 = n`` and
  ``h_i = _round(h_{i-1}, v_i)``, read as a signed 64-bit integer.

``_round`` is xxHash64's round and ``_finish`` its avalanche, with its
primes: good mixing, so that two different versions of a deal share a
digest with odds of about 2**-64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
#: The word a null stands for (not the word of any short value in practice: it is a digest input, not an output).
NULL_WORD = np.uint64(0x6E756C6C_2D6E756C)  # "null-nul"
_CANONICAL_NAN = np.float64("nan").view(np.uint64)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _round(h: np.ndarray, word: np.ndarray) -> np.ndarray:
    return _rotl(h + word * _P2, 31) * _P1


def _finish(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * _P2
    h = h ^ (h >> np.uint64(29))
    h = h * _P3
    return h ^ (h >> np.uint64(32))


def _string_words(series: pl.Series) -> np.ndarray:
    """One word per string: its bytes folded a word at a time, every row at once, longest rows last to leave the loop."""
    array = series.cast(pl.Binary).rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    offsets_buffer, data_buffer = array.buffers()[1], array.buffers()[2]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64, count=len(array) + 1 + array.offset)[array.offset :]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    # Eight zero bytes past the end, so that reading a last, partial word never runs off the buffer.
    padded = np.concatenate([data[: int(offsets[-1])] if len(data) else data, np.zeros(8, np.uint8)]) if len(array) else np.zeros(8, np.uint8)
    words_per_row = (lengths + 7) // 8
    # Rows by number of words, most first: round k then works on a prefix of rows, not a mask over all of them.
    order = np.argsort(-words_per_row, kind="stable")
    sorted_starts = starts[order]
    sorted_lengths = lengths[order]
    sorted_words = words_per_row[order]
    h = sorted_lengths.astype(np.uint64)
    # Every byte offset read as the start of a little-endian word: one gather per row and round, not eight.
    at_offset = np.ndarray(buffer=padded, dtype="<u8", shape=(len(padded) - 7,), strides=(1,))
    most = int(sorted_words[0]) if len(sorted_words) else 0
    # How many rows have more than k words, for every k: a prefix length.
    active_counts = np.searchsorted(-sorted_words, -np.arange(1, most + 1), side="right") if most else np.zeros(0, np.int64)
    with np.errstate(over="ignore"):
        for k in range(most):
            active = int(active_counts[k])
            word = at_offset[sorted_starts[:active] + 8 * k]
            remaining = sorted_lengths[:active] - 8 * k
            partial = remaining < 8
            if partial.any():
                # Bytes past the string's end belong to the next string: only its own bytes count.
                shift = np.uint64(8) * remaining[partial].astype(np.uint64)
                word[partial] &= (np.uint64(1) << shift) - np.uint64(1)
            h[:active] = _round(h[:active], word)
        finished = _finish(h)
    words = np.empty(len(array), dtype=np.uint64)
    words[order] = finished
    return words


def _value_words(series: pl.Series) -> np.ndarray:
    dtype = series.dtype
    if dtype == pl.String:
        words = _string_words(series)
    elif dtype.is_float():
        values = series.cast(pl.Float64).fill_null(0.0).to_numpy().astype(np.float64, copy=True)
        values[values == 0.0] = 0.0
        bits = values.view(np.uint64).copy()
        bits[np.isnan(values)] = _CANONICAL_NAN
        words = bits
    elif dtype == pl.Date:
        words = series.cast(pl.Int32).cast(pl.Int64).fill_null(0).to_numpy().astype(np.int64).view(np.uint64)
    elif dtype == pl.Boolean:
        words = series.cast(pl.Int64).fill_null(0).to_numpy().astype(np.int64).view(np.uint64)
    elif dtype.is_integer():
        words = series.cast(pl.Int64).fill_null(0).to_numpy().astype(np.int64).view(np.uint64)
    else:
        raise TypeError(f"no digest defined for {dtype}")
    nulls = series.is_null().to_numpy()
    if nulls.any():
        words = words.copy()
        words[nulls] = NULL_WORD
    return words


def row_digests(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """The digest (see the module docstring) of each row of ``frame`` over ``columns``, as signed 64-bit integers."""
    h = np.full(frame.height, len(columns), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            h = _round(h, _value_words(frame.get_column(column)))
        digests = _finish(h)
    return pl.Series("content_hash", digests.view(np.int64), dtype=pl.Int64)
