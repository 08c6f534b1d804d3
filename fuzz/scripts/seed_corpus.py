#!/usr/bin/env python3
"""Build seed corpora for the fuzz targets from the golden frames in protocol-tests/fixtures.

    python3 fuzz/scripts/seed_corpus.py     # writes fuzz/corpus/<target>/seed-*

- frame_decode: every captured frame with its 4-byte size prefix, plus all of them back to back.
- record_batches: every v2 record batch found inside the frames (located by its length field,
  magic byte and a matching CRC-32C).
- response_decode: every captured response of a selectable API, behind the selector byte.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "protocol-tests", "fixtures", "frames")
CORPUS = os.path.join(HERE, "..", "corpus")
# selector low bits -> (api key, lowest version rafka speaks); see response_decode.rs
SELECT = {3: (0, 1), 1: (1, 4), 0: (2, 3), 11: (3, 0), 14: (4, 0), 9: (5, 1), 18: (6, 0)}


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def batches(frame):
    i = 0
    while i + 61 <= len(frame):
        (length,) = struct.unpack(">i", frame[i + 8:i + 12])
        end = i + 12 + length
        if frame[i + 16] == 2 and 49 <= length and end <= len(frame):
            (crc,) = struct.unpack(">I", frame[i + 17:i + 21])
            if crc32c(frame[i + 21:end]) == crc:
                yield frame[i:end]
                i = end
                continue
        i += 1


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"seed-{name}"), "wb") as f:
        f.write(data)


def main():
    everything = b""
    for name in sorted(os.listdir(FIXTURES)):
        data = open(os.path.join(FIXTURES, name), "rb").read()
        framed = struct.pack(">i", len(data)) + data
        everything += framed
        write("frame_decode", name, framed)
        for n, batch in enumerate(batches(data)):
            write("record_batches", f"{name}-{n}", batch)
        parts = name.split("-")
        api, version, direction = int(parts[1]), int(parts[-2][1:]), parts[-1].split(".")[0]
        if direction == "resp" and api in SELECT:
            low, min_version = SELECT[api]
            write("response_decode", name, bytes([((version - min_version) << 3) | low]) + data)
    write("frame_decode", "all", everything)


if __name__ == "__main__":
    main()
