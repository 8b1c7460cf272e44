#!/usr/bin/env python3
"""Acceptance 2 of docs/QUANTIZATION.md: a file written by `v4 quantize` is a standard GGUF.

1. Reads QUANT.gguf with the gguf package's GGUFReader (header, metadata, tensor infos, offsets,
   alignment) and checks every tensor's byte size against its type and shape.
2. Dequantizes every tensor with gguf.quants.dequantize and writes F32.gguf (same metadata,
   all tensors F32) with GGUFWriter.
Then `v4 perplexity` on QUANT.gguf (--kl-base) and on F32.gguf (--kl-compare) shows whether our
engine computes the same distribution from our file as from gguf-py's reading of it.

usage: check_quant_file.py QUANT.gguf F32.gguf
"""
import sys
from collections import Counter

import numpy as np
from gguf import GGML_QUANT_SIZES, GGUFReader, GGUFValueType, GGUFWriter, quants


def dequantize_file(src: str, dst: str) -> Counter:
    """Reads src with GGUFReader, checks every tensor's byte size, writes dst with every tensor
    dequantized to F32 by gguf.quants.dequantize (metadata copied). Returns the tensor types read."""
    r = GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = GGUFWriter(dst, arch)
    for name, f in r.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        vtype = GGUFValueType(f.types[0])
        sub = GGUFValueType(f.types[-1]) if vtype == GGUFValueType.ARRAY else None
        w.add_key_value(name, f.contents(), vtype, sub_type=sub)
    types = Counter()
    for t in r.tensors:
        block, type_size = GGML_QUANT_SIZES[t.tensor_type]
        n = int(np.prod(t.shape))
        assert t.n_bytes == n // block * type_size, f"{t.name}: {t.n_bytes} bytes for {n} {t.tensor_type.name}"
        types[t.tensor_type.name] += 1
        deq = quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        w.add_tensor(t.name, deq.reshape([int(d) for d in reversed(t.shape)]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"GGUFReader read {len(r.tensors)} tensors ({dict(types)}), {len(r.fields)} fields; "
          f"dequantized with gguf-py into {dst}")
    return types


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    dequantize_file(sys.argv[1], sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
