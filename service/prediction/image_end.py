"""Where an encoded image ends, so bytes hidden after it are never kept.

A PNG ends with its ``IEND`` chunk, a JPEG with the ``EOI`` marker after its last scan, a GIF with
its trailer byte, a WebP with the length its RIFF header gives. Anything after that end is not
part of the picture (a decoder ignores it), so an upload that carries such bytes is read but its
bytes are not kept: the image store must not become free storage for whatever someone appends.
"""

from __future__ import annotations

import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8"
RIFF_WEBP = (b"RIFF", b"WEBP")
STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length


def encoded_end(data: bytes) -> int | None:
    """The offset just past the image's encoding (PNG, JPEG, GIF, WebP), or None when it cannot tell."""
    try:
        if data.startswith(PNG_SIGNATURE):
            return _png_end(data)
        if data.startswith(JPEG_START):
            return _jpeg_end(data)
        if data[:4] == RIFF_WEBP[0] and data[8:12] == RIFF_WEBP[1]:
            return 8 + struct.unpack("<I", data[4:8])[0]
        if data.startswith((b"GIF87a", b"GIF89a")):
            return _gif_end(data)
    except (IndexError, struct.error):
        return None
    return None


def trailing_bytes(data: bytes) -> int:
    """How many bytes follow the image's end (0 when none, or when the format's end is not known)."""
    end = encoded_end(data)
    return max(0, len(data) - end) if end is not None else 0


def _png_end(data: bytes) -> int | None:
    """Walk the chunks to the end of ``IEND``."""
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        offset += 12 + length  # length, type, data, CRC
        if kind == b"IEND":
            return offset
    return None


def _jpeg_end(data: bytes) -> int | None:
    """Walk the segments and scans to just past the ``EOI`` marker."""
    offset = 2
    while offset + 2 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker == 0xD9:
            return offset + 2
        if marker in STANDALONE_MARKERS:
            offset += 2
            continue
        length = struct.unpack(">H", data[offset + 2 : offset + 4])[0]
        offset += 2 + length
        if marker == 0xDA:  # entropy-coded data follows a scan header, up to the next real marker
            while offset + 1 < len(data):
                if data[offset] == 0xFF and data[offset + 1] != 0x00 and data[offset + 1] not in STANDALONE_MARKERS:
                    break
                offset += 1
    return None


def _gif_end(data: bytes) -> int | None:
    """Walk the blocks to just past the ``;`` trailer."""
    flags = data[10]
    offset = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while offset < len(data):
        block = data[offset]
        if block == 0x3B:
            return offset + 1
        if block == 0x21:  # extension: label, then sub-blocks
            offset += 2
        elif block == 0x2C:  # image: descriptor, local colour table, LZW size, then sub-blocks
            local = data[offset + 9]
            offset += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:
            return None
        while data[offset] != 0:
            offset += 1 + data[offset]
        offset += 1
    return None
