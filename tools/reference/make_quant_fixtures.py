#!/usr/bin/env python3
"""Fixtures for tests/quantize: random rows quantized by the gguf Python package.

Writes tests/fixtures/quantize/input.f32 (ROWS x COLS little-endian f32, seeded) and, for every
type gguf-py can quantize, <type>.bin with gguf.quants.quantize(input, type) as bytes. Our
quantizers must reproduce these bytes exactly. Rows mix scales (1e-3 .. 1e2), a constant row,
a zero row and rows with exact ties, so the edge cases of the reference are covered.
"""
import pathlib
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

ROWS, COLS = 8, 256
TYPES = {"q8_0": T.Q8_0, "q4_0": T.Q4_0, "q4_1": T.Q4_1, "q5_0": T.Q5_0, "q5_1": T.Q5_1, "mxfp4": T.MXFP4}


def make_input() -> np.ndarray:
    rng = np.random.default_rng(20261123)
    x = rng.standard_normal((ROWS, COLS)).astype(np.float32)
    x[1] *= np.float32(1e-3)
    x[2] *= np.float32(100.0)
    x[3] = np.float32(0.75)                                     # constant row
    x[4] = 0.0                                                  # zero row
    x[5] = np.round(x[5] * 4) / 4                               # ties on a coarse grid
    x[6] = rng.laplace(size=COLS).astype(np.float32)            # heavy tails
    x[7, ::32] = -x[7, ::32] * 10                               # one outlier per block
    return x


def main() -> int:
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/quantize")
    out.mkdir(parents=True, exist_ok=True)
    x = make_input()
    (out / "input.f32").write_bytes(x.astype("<f4").tobytes())
    for name, qt in TYPES.items():
        (out / f"{name}.bin").write_bytes(quants.quantize(x, qt).tobytes())
    print(f"wrote {len(TYPES) + 1} files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
