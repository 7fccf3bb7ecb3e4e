#!/usr/bin/env python3
"""Draws the extension's icons (no third-party art): a rounded square in
each task's colour with a white container box, written as PNG with zlib.
Run from azure-pipelines/extension/: python3 images/make-icons.py"""
import struct
import zlib

def png(path, size, rgb):
    rows = []
    r = size * 0.18                      # corner radius
    for y in range(size):
        row = bytearray([0])             # filter type 0
        for x in range(size):
            cx, cy = x + 0.5, y + 0.5
            # rounded square mask
            dx = max(r - cx, 0, cx - (size - r))
            dy = max(r - cy, 0, cy - (size - r))
            inside = dx * dx + dy * dy <= r * r
            if not inside:
                row += bytes([0, 0, 0, 0])
                continue
            u, v = cx / size, cy / size
            # a container: a box with three vertical ribs
            box = 0.2 <= u <= 0.8 and 0.32 <= v <= 0.72
            edge = box and not (0.26 <= u <= 0.74 and 0.38 <= v <= 0.66)
            rib = box and any(abs(u - c) < 0.025 for c in (0.38, 0.5, 0.62))
            if edge or rib:
                row += bytes([255, 255, 255, 255])
            else:
                row += bytes(list(rgb) + [255])
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)

png("images/icon.png", 128, (0x1f, 0x4e, 0x79))
png("BosunInstallV1/icon.png", 32, (0x3a, 0x7d, 0x44))
png("BosunShipV1/icon.png", 32, (0x1f, 0x4e, 0x79))
png("BosunVerifyV1/icon.png", 32, (0x8e, 0x44, 0xad))
png("BosunBaseWatchV1/icon.png", 32, (0xc0, 0x6c, 0x14))
png("BosunPatchV1/icon.png", 32, (0x1a, 0x7f, 0x8e))
