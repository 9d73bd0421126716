"""Read a file region into a buffer and compute its CRC-32, in parallel for large regions.

A gigabyte model file spends as long in ``zlib.crc32`` as in the read itself. The region is
cut into pieces that threads read (``os.preadv``) and checksum independently (both release
the GIL); the pieces' CRCs are then joined with :func:`crc32_combine`, the GF(2) method of
zlib's ``crc32_combine``: appending ``n`` zero bytes to a message multiplies its CRC register
by a fixed 32 x 32 bit matrix ``M^(8n)``, computed by repeated squaring, so

    crc(A + B) = M^(8 |B|) crc(A)  xor  crc(B).
"""

from __future__ import annotations

import functools
import os
import zlib
from concurrent.futures import ThreadPoolExecutor

_POLYNOMIAL = 0xEDB88320  # CRC-32 (IEEE 802.3), reflected
_PIECE = 64 << 20  # bytes per piece
_PARALLEL_FROM = 128 << 20  # smaller regions are read on the calling thread


def _times(matrix: list[int], vector: int) -> int:
    """``matrix @ vector`` over GF(2); a matrix is 32 column bit masks."""
    total, column = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[column]
        vector >>= 1
        column += 1
    return total


def _square(matrix: list[int]) -> list[int]:
    return [_times(matrix, column) for column in matrix]


@functools.lru_cache(maxsize=8)
def _zeros_operator(length: int) -> tuple[int, ...]:
    """The matrix that appends ``length`` zero bytes to a CRC register."""
    operator = [1 << bit for bit in range(32)]  # identity
    power = [_POLYNOMIAL] + [1 << bit for bit in range(31)]  # one zero bit
    for _ in range(3):
        power = _square(power)  # 8 bits: one byte
    while length:
        if length & 1:
            operator = [_times(power, column) for column in operator]
        length >>= 1
        if length:
            power = _square(power)
    return tuple(operator)


def crc32_combine(crc_a: int, crc_b: int, length_b: int) -> int:
    """CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)``."""
    if length_b <= 0:
        return crc_a
    return _times(list(_zeros_operator(length_b)), crc_a) ^ crc_b


def _fill(fd: int, view: memoryview, offset: int) -> None:
    """Fill ``view`` from ``offset``. Raises EOFError when the file ends first."""
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if got <= 0:
            raise EOFError(f"the file ends {len(view) - done:,} bytes early")
        done += got


def read_with_crc(fd: int, offset: int, buffer: memoryview, crc: int = 0) -> int:
    """Fill the byte ``buffer`` from ``fd`` at ``offset``; returns its CRC-32 continuing ``crc``."""

    def piece(start: int, view: memoryview, seed: int) -> int:
        _fill(fd, view, offset + start)
        return zlib.crc32(view, seed)

    return _in_pieces(buffer, piece, crc)


def crc_of(buffer: memoryview, crc: int = 0) -> int:
    """CRC-32 of a byte buffer (e.g. a memory map) continuing ``crc``, in parallel pieces."""
    return _in_pieces(buffer, lambda start, view, seed: zlib.crc32(view, seed), crc)


def _in_pieces(buffer: memoryview, piece, crc: int) -> int:
    """``piece(start, view, seed)`` (the view's CRC-32 continuing ``seed``) over
    ``_PIECE``-byte views of ``buffer`` on threads, the results joined in order onto ``crc``;
    the whole buffer on the calling thread when it is small or there is one core."""
    size = len(buffer)
    if size < _PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return piece(0, buffer, crc)
    starts = range(0, size, _PIECE)
    threads = min(os.cpu_count() or 1, 8, len(starts))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pieces = list(pool.map(lambda at: piece(at, buffer[at : at + _PIECE], 0), starts))
    for start, piece_crc in zip(starts, pieces):
        crc = crc32_combine(crc, piece_crc, min(_PIECE, size - start))
    return crc
