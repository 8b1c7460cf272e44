#!/usr/bin/env python3
"""Write a vocab-only GGUF: the tokenizer.* keys (plus general.architecture/name) of a model file,
no tensors. Used to commit tiny tokenizer fixtures instead of multi-GB models.

The metadata section is parsed by hand so that only the head of a model is needed: a truncated
file (for example the first chunk of a model split across packages) works as long as it holds
the whole key/value section.

    python3 tools/reference/extract_vocab_gguf.py model.gguf out-vocab.gguf
"""
import struct
import sys

import gguf
import numpy as np

KEEP_PREFIXES = ("tokenizer.", "general.architecture", "general.name")

_SCALARS = {
    0: ("<B", gguf.GGUFValueType.UINT8), 1: ("<b", gguf.GGUFValueType.INT8),
    2: ("<H", gguf.GGUFValueType.UINT16), 3: ("<h", gguf.GGUFValueType.INT16),
    4: ("<I", gguf.GGUFValueType.UINT32), 5: ("<i", gguf.GGUFValueType.INT32),
    6: ("<f", gguf.GGUFValueType.FLOAT32), 7: ("<?", gguf.GGUFValueType.BOOL),
    10: ("<Q", gguf.GGUFValueType.UINT64), 11: ("<q", gguf.GGUFValueType.INT64),
    12: ("<d", gguf.GGUFValueType.FLOAT64),
}
_NP = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 4: np.uint32, 5: np.int32, 6: np.float32,
       7: np.bool_, 10: np.uint64, 11: np.int64, 12: np.float64}


class _Cursor:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise SystemExit(f"file ends inside the metadata section (offset {self.pos})")
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n]
        if len(s) != n:
            raise SystemExit(f"file ends inside a string (offset {self.pos})")
        self.pos += n
        return s.decode("utf-8", errors="surrogateescape")

    def value(self, vtype):
        if vtype == 8:
            return self.string()
        if vtype == 9:
            etype, count = self.take("<I"), self.take("<Q")
            if etype in _NP:
                dt = np.dtype(_NP[etype]).newbyteorder("<")
                arr = np.frombuffer(self.data, dtype=dt, count=count, offset=self.pos)
                self.pos += count * dt.itemsize
                return (etype, arr)
            return (etype, [self.value(etype) for _ in range(count)])
        return self.take(_SCALARS[vtype][0])


def read_metadata(path):
    with open(path, "rb") as f:
        data = f.read()
    cur = _Cursor(data)
    if data[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file")
    cur.pos = 4
    version = cur.take("<I")
    cur.take("<Q")  # tensor count
    n_kv = cur.take("<Q")
    kvs = []
    for _ in range(n_kv):
        key = cur.string()
        vtype = cur.take("<I")
        kvs.append((key, vtype, cur.value(vtype)))
    return version, kvs


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    _, kvs = read_metadata(src)
    arch = next((v for k, t, v in kvs if k == "general.architecture"), "llama")
    w = gguf.GGUFWriter(dst, arch=arch)
    for key, vtype, val in kvs:
        if key == "general.architecture" or not key.startswith(KEEP_PREFIXES):
            continue
        if vtype == 8:
            w.add_string(key, val)
        elif vtype == 9:
            etype, elems = val
            if etype == 8:
                w.add_array(key, list(elems))
            else:
                # add_key_value with an explicit sub-type keeps e.g. int32 token types as int32.
                w.add_key_value(key, elems.tolist(), gguf.GGUFValueType.ARRAY, sub_type=_SCALARS[etype][1])
        else:
            w.add_key_value(key, val, _SCALARS[vtype][1])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
