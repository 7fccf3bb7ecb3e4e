#!/usr/bin/python3
"""gen_context.py DIR FILES MEGABYTES: a deterministic build context.

FILES - 1 data files (the last file is the Dockerfile the caller writes)
spread over 50 directories, MEGABYTES * 10^6 bytes in all, sizes varying
+-50% around the mean. Each file is roughly two thirds text (lines of words
drawn from a fixed vocabulary with Zipf frequencies, compressible about 3:1 like source code or
logs) and one third pseudo-random bytes (incompressible, like already
compressed assets). The generator is seeded, so every machine and every
run gets the same bytes, and the compression work is the same."""
import os
import random
import sys

root, files, mb = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng = random.Random(15)
total = int(mb * 1e6)
n = files - 1
letters = "etaoinshrdlucmfwypvbgkqjxz"
vocab = ["".join(rng.choices(letters, weights=range(26, 0, -1), k=rng.randint(2, 10))) for _ in range(3000)]
zipf = [1 / (r + 1) for r in range(len(vocab))]
# A 16 MiB pool of text; each file takes slices at random offsets.
lines, size = [], 0
while size < 16 << 20:
    line = " ".join(rng.choices(vocab, weights=zipf, k=rng.randint(4, 14))) + "\n"
    lines.append(line)
    size += len(line)
pool = "".join(lines).encode()
sizes = [rng.randint(50, 150) for _ in range(n)]
scale = total / sum(sizes)
sizes = [int(s * scale) for s in sizes]
sizes[-1] += total - sum(sizes)
for i, sz in enumerate(sizes):
    d = os.path.join(root, "d%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    nrand = sz // 3
    ntext = sz - nrand
    off = rng.randrange(0, len(pool) - ntext)
    with open(os.path.join(d, "f%05d.dat" % i), "wb") as f:
        f.write(pool[off:off + ntext // 2])
        f.write(rng.randbytes(nrand))
        f.write(pool[off + ntext // 2:off + ntext])
