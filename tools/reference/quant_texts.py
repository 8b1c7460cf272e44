#!/usr/bin/env python3
"""Extracts the calibration and evaluation texts of docs/QUANTIZATION.md, deterministically, from
the Debian license texts every Debian/Ubuntu machine has (/usr/share/common-licenses).

calibration: CC0-1.0 (a public-domain dedication);  evaluation: Apache-2.0 + MPL-2.0.
The two sets share no file. Prints each output's SHA-256 so a run can be checked against the doc.

usage: quant_texts.py OUTDIR     -> OUTDIR/calib.txt, OUTDIR/eval.txt
"""
import hashlib
import pathlib
import sys

SRC = pathlib.Path("/usr/share/common-licenses")
SETS = {"calib.txt": ["CC0-1.0"], "eval.txt": ["Apache-2.0", "MPL-2.0"]}


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, files in SETS.items():
        text = "\n\n".join((SRC / f).read_text(encoding="utf-8") for f in files)
        (out / name).write_text(text, encoding="utf-8")
        print(f"{name}: {len(text)} chars, sha256 {hashlib.sha256(text.encode()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
