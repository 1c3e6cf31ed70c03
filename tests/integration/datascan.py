# SPDX-License-Identifier: MIT
"""Look for a string in every file of a data directory, including inside
the compressed parts grep cannot see: the LZ4 blocks of provcat's snapshot
frames (docs/format.md, "Snapshot and backup format": raft snapshots and
backups) and LZ4 frame-format streams (raft 0.15.0 compresses its snapshot
files so). Standard library only: the LZ4 block format is decoded here.

find(marker, root) -> [(path, where)] with where "raw" (the bytes as they
are, e.g. a raft log segment, whose entries are stored uncompressed),
"snapshot-frame" (inside a decompressed provcat snapshot frame) or
"lz4-frame" (inside a decompressed LZ4 frame-format stream)."""
import os

SNAP_MAGIC = b"PCSNAP\r\n"
SNAP_HEADER_LEN = 68
FRAME_HEADER_LEN = 16
TRAILER_MARKER = 0xFFFFFFFF
LZ4F_MAGIC = b"\x04\x22\x4d\x18"


class Corrupt(Exception):
    pass


def lz4_block(src, dst, limit=None):
    """Decode one LZ4 block `src`, appending to bytearray `dst` (which may
    hold earlier output that matches refer to, as linked LZ4 frame blocks
    do). Refuses anything malformed and output beyond `limit` bytes."""
    i, n = 0, len(src)
    start = len(dst)
    while i < n:
        token = src[i]
        i += 1
        lit = token >> 4
        if lit == 15:
            while True:
                if i >= n:
                    raise Corrupt("literal length runs off the block")
                b = src[i]
                i += 1
                lit += b
                if b != 255:
                    break
        if i + lit > n:
            raise Corrupt("literals run off the block")
        dst += src[i:i + lit]
        i += lit
        if i == n:
            break  # the last sequence has literals only
        if i + 2 > n:
            raise Corrupt("offset runs off the block")
        off = src[i] | (src[i + 1] << 8)
        i += 2
        ml = token & 15
        if ml == 15:
            while True:
                if i >= n:
                    raise Corrupt("match length runs off the block")
                b = src[i]
                i += 1
                ml += b
                if b != 255:
                    break
        ml += 4
        if off == 0 or off > len(dst):
            raise Corrupt("match offset %d outside the output" % off)
        p = len(dst) - off
        if off >= ml:
            dst += dst[p:p + ml]
        else:  # overlapping: a run, copied in steps of the offset
            while ml > 0:
                k = min(off, ml)
                dst += dst[p:p + k]
                p += k
                ml -= k
        if limit is not None and len(dst) - start > limit:
            raise Corrupt("output beyond the declared length")
    return dst


def snapshot_frames(data, at=0):
    """The raw records of each frame of the provcat snapshot starting at
    `at` (its magic), decompressed; stops at the trailer or at a
    truncated frame (a snapshot being written)."""
    pos = at + SNAP_HEADER_LEN
    while pos + FRAME_HEADER_LEN <= len(data):
        raw_len = int.from_bytes(data[pos:pos + 4], "little")
        if raw_len == TRAILER_MARKER:
            return
        stored = int.from_bytes(data[pos + 4:pos + 8], "little")
        size = stored if stored else raw_len
        body = data[pos + FRAME_HEADER_LEN:pos + FRAME_HEADER_LEN + size]
        if len(body) < size:
            return  # truncated
        if stored:
            out = lz4_block(body, bytearray(), raw_len)
            if len(out) != raw_len:
                raise Corrupt("frame at %d: %d bytes, want %d" %
                              (pos, len(out), raw_len))
            yield bytes(out)
        else:
            yield body
        pos += FRAME_HEADER_LEN + size


def lz4_frame(data, at):
    """Decode the LZ4 frame-format stream starting at `at` (its magic)."""
    i = at + 4
    flg = data[i]
    if flg >> 6 != 1:
        raise Corrupt("LZ4 frame version")
    i += 2  # FLG, BD
    if flg & 0x08:
        i += 8  # content size
    if flg & 0x01:
        i += 4  # dictionary id
    i += 1  # header checksum
    out = bytearray()
    while i + 4 <= len(data):
        size = int.from_bytes(data[i:i + 4], "little")
        i += 4
        if size == 0:
            break
        raw, size = size & 0x80000000, size & 0x7FFFFFFF
        block = data[i:i + size]
        if len(block) < size:
            break
        if raw:
            out += block
        else:
            lz4_block(block, out)
        i += size
        if flg & 0x10:
            i += 4  # block checksum
    return bytes(out)


def _all(data, needle):
    i = data.find(needle)
    while i >= 0:
        yield i
        i = data.find(needle, i + 1)


def scan_bytes(data, marker):
    """Where `marker` is in `data`: a set of "raw", "snapshot-frame",
    "lz4-frame"."""
    found = set()
    if marker in data:
        found.add("raw")
    for at in _all(data, SNAP_MAGIC):
        try:
            if any(marker in f for f in snapshot_frames(data, at)):
                found.add("snapshot-frame")
        except Corrupt:
            pass
    for at in _all(data, LZ4F_MAGIC):
        try:
            plain = lz4_frame(data, at)
        except (Corrupt, IndexError):
            continue
        if marker in plain or "snapshot-frame" in scan_bytes(plain, marker):
            found.add("lz4-frame")
    return found


def find(marker, root):
    """Every (path, where) under directory (or file) `root` holding
    `marker` (bytes); files that vanish while scanned are skipped."""
    if isinstance(marker, str):
        marker = marker.encode()
    paths = [root] if os.path.isfile(root) else [
        os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    hits = []
    for path in sorted(paths):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        for where in sorted(scan_bytes(data, marker)):
            hits.append((path, where))
    return hits


def snapshot_facts(data):
    """The number of fact records in the provcat snapshot `data` (a
    backup), walking each decompressed frame record by record: checks the
    decoder on real frames (every frame must decode to its raw length and
    hold whole records)."""
    def uv(b, i):
        v = s = 0
        while True:
            c = b[i]
            i += 1
            v |= (c & 0x7F) << s
            s += 7
            if c < 0x80:
                return v, i

    assert data[:8] == SNAP_MAGIC
    count = 0
    for frame in snapshot_frames(data):
        i = 0
        while i < len(frame):
            _, i = uv(frame, i)          # raft index
            n, i = uv(frame, i)          # encoding
            i += n
            state = frame[i]
            i += 1
            if state == 1:
                i += 16                  # salt
                n, i = uv(frame, i)      # document
                i += n
            elif state not in (0, 2):
                raise Corrupt("document state %d" % state)
            count += 1
        if i != len(frame):
            raise Corrupt("a record straddles a frame")
    return count
