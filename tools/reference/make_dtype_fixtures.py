#!/usr/bin/env python3
"""Golden fixtures for the GGUF reader and the reference (de)quantization kernels.

The independent reference is the `gguf` Python package (gguf-py, from llama.cpp): its
GGUFWriter writes the files and its gguf.quants module computes the expected values.

Writes:
  tests/fixtures/dtypes/dtypes.gguf      for each type T: tensor "T.blocks" (random blocks of type T,
                                         with finite scales) and "T.expected" (f32, gguf.quants.dequantize);
                                         plus encoder cases: "q8_0.quant.input"/"q8_0.quant.expected",
                                         "f16.encode.input"/"f16.encode.expected",
                                         "bf16.encode.input"/"bf16.encode.expected".
  tests/fixtures/gguf/all_types.gguf     one metadata key of every value type (nested arrays, bool,
                                         f64, i64, unicode strings) and a few small tensors.

Deterministic (fixed seed). Run from anywhere:  python3 tools/reference/make_dtype_fixtures.py
"""
from __future__ import annotations

import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGUFValueType as V
from gguf.quants import dequantize, quantize

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
rng = np.random.default_rng(20240611)

# Blocks per type: a few hundred sub-blocks each, under 1 MB in all.
N_BLOCKS = {
    T.Q8_0: 256, T.Q4_0: 256, T.MXFP4: 256, T.Q4_1: 128, T.Q5_0: 128, T.Q5_1: 128,
    T.Q4_K: 48, T.Q5_K: 48, T.Q6_K: 48, T.Q3_K: 48,
}


def finite_f16(n: int) -> np.ndarray:
    """Random fp16 bit patterns that are finite (normals, subnormals, zeros, both signs)."""
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    inf_nan = (bits & 0x7C00) == 0x7C00
    bits[inf_nan] &= 0xBFFF  # clear the top exponent bit: finite
    return bits


def random_blocks(qtype: T, n_blocks: int) -> np.ndarray:
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint16).astype(np.uint8)
    # Byte offsets of the fp16 scales in each block layout (ggml-common.h).
    half_offsets = {
        T.Q8_0: [0], T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2],
        T.Q4_K: [0, 2], T.Q5_K: [0, 2],
        T.Q6_K: [208], T.Q3_K: [108],
    }
    for off in half_offsets.get(qtype, []):
        raw[:, off:off + 2] = finite_f16(n_blocks).view(np.uint8).reshape(n_blocks, 2)
    if qtype == T.MXFP4:
        # E8M0 scale 2^(e-128) times |value| <= 12 must stay finite: e <= 252. Keep the subnormal
        # scales (e = 0, 1) and the extremes in.
        e = rng.integers(0, 253, size=n_blocks, dtype=np.int32)
        e[:4] = [0, 1, 252, 128]
        raw[:, 0] = e.astype(np.uint8)
    return raw


def special_f16() -> np.ndarray:
    s = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x3C00, 0x7C00, 0xFC00,
         0x7E00, 0xFE00, 0x7C01, 0x7DFF, 0xFFFF, 0x3555, 0x0200]
    return np.array(s, dtype=np.uint16)


def special_bf16() -> np.ndarray:
    s = [0x0000, 0x8000, 0x0001, 0x8001, 0x007F, 0x0080, 0x7F7F, 0xFF7F, 0x3F80, 0x7F80, 0xFF80,
         0x7FC0, 0xFFC0, 0x7F81, 0x7FBF, 0xFFFF, 0x3EAA, 0x0040]
    return np.array(s, dtype=np.uint16)


def f32_encode_inputs(n: int, allow_nan: bool) -> np.ndarray:
    """float32 inputs for the fp16/bf16 encoders: random bit patterns plus rounding edge cases."""
    bits = rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32)
    # Half of them in the fp16 range, where rounding is interesting.
    e = rng.integers(100, 145, size=n // 2, dtype=np.uint32)
    bits[: n // 2] = (bits[: n // 2] & 0x807FFFFF) | (e << 23)
    edges = np.array([65504.0, 65519.99, 65520.0, 65536.0, 2.0**-24, 2.0**-25, 2.0**-25 * 1.0000001,
                      2.0**-14, 2.0**-14 * (1 - 2.0**-11), 1.0 + 2.0**-11, 1.0 + 3 * 2.0**-11, -0.0, np.inf,
                      -np.inf, 3.0e38, 1e-45], dtype=np.float32).view(np.uint32)
    bits[-len(edges):] = edges
    if not allow_nan:
        nan = (bits & 0x7FFFFFFF) > 0x7F800000
        bits[nan] &= 0xFF7FFFFF  # clear an exponent bit: finite
    else:
        bits[: 8] = [0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF, 0xFF812345, 0x7FFFFFFF, 0x7F80FFFF, 0x7FC0FFFF]
    return bits.view(np.float32)


def write_dtypes(path: str) -> None:
    w = gguf.GGUFWriter(path, arch="v4-fixtures")
    w.add_string("v4.fixture.generator", "tools/reference/make_dtype_fixtures.py")
    w.add_string("v4.fixture.gguf_py_version", getattr(gguf, "__version__", "unknown"))

    for qtype, n_blocks in N_BLOCKS.items():
        blocks = random_blocks(qtype, n_blocks)
        expected = dequantize(blocks.reshape(1, -1), qtype).astype(np.float32).reshape(-1)
        assert np.all(np.isfinite(expected)), qtype.name
        name = qtype.name.lower()
        w.add_tensor(f"{name}.blocks", blocks.reshape(1, -1), raw_dtype=qtype)
        w.add_tensor(f"{name}.expected", expected)

    # f16 and bf16: random bit patterns (NaN and inf included) plus the special values.
    for qtype, special in ((T.F16, special_f16()), (T.BF16, special_bf16())):
        bits = rng.integers(0, 1 << 16, size=4096 - len(special), dtype=np.uint32).astype(np.uint16)
        bits = np.concatenate([special, bits])
        expected = dequantize(bits.view(np.uint8).reshape(1, -1), qtype).astype(np.float32).reshape(-1)
        name = qtype.name.lower()
        w.add_tensor(f"{name}.blocks", bits.view(np.uint8).reshape(1, -1), raw_dtype=qtype)
        w.add_tensor(f"{name}.expected", expected)

    # f32 passes through: random bits, NaNs included.
    f32 = rng.integers(0, 1 << 32, size=1024, dtype=np.uint64).astype(np.uint32).view(np.float32)
    w.add_tensor("f32.blocks", f32)
    w.add_tensor("f32.expected", f32.copy())

    # q8_0 activation quantizer (gguf-py's Q8_0.quantize_blocks is bit-exact with quantize_row_q8_0_ref).
    x = (rng.standard_normal(64 * 32) * np.exp(rng.uniform(-8, 8, size=64 * 32))).astype(np.float32)
    x[:32] = 0.0                         # an all-zero block
    x[32:64] = rng.integers(-3, 4, 32)   # exact halves and ties after scaling
    x[64:96] *= np.float32(1e-30)        # tiny scale: fp16 d underflows
    w.add_tensor("q8_0.quant.input", x)
    w.add_tensor("q8_0.quant.expected", quantize(x.reshape(1, -1), T.Q8_0), raw_dtype=T.Q8_0)

    # fp32 -> fp16 (numpy: IEEE round to nearest even; NaNs are tested separately in C++).
    xf = f32_encode_inputs(4096, allow_nan=False)
    w.add_tensor("f16.encode.input", xf)
    with np.errstate(over="ignore"):  # values past 65520 become inf, which is the point
        w.add_tensor("f16.encode.expected", xf.astype(np.float16))

    # fp32 -> bf16 (gguf-py's BF16.quantize_blocks: ggml_compute_fp32_to_bf16, NaNs made quiet).
    xb = f32_encode_inputs(4096, allow_nan=True)
    w.add_tensor("bf16.encode.input", xb)
    w.add_tensor("bf16.encode.expected", quantize(xb.reshape(1, -1), T.BF16), raw_dtype=T.BF16)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_all_types(path: str) -> None:
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.1)
    w.add_uint64("test.u64", 18000000000000000000)
    w.add_int64("test.i64", -9000000000000000000)
    w.add_float64("test.f64", 2.718281828459045)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_string("test.string", "h\u00e9llo \u4e16\u754c \U0001F600")
    w.add_key_value("test.empty_string", "", V.STRING)
    w.add_array("test.arr_str", ["a", "\u00df", "", "tab\there"])
    w.add_array("test.arr_i32", [1, -2, 2147483647, -2147483648])
    w.add_array("test.arr_f32", [0.5, -1.25, 3.0e38])
    w.add_array("test.arr_bool", [True, False, True])
    w.add_key_value("test.arr_u8", [0, 1, 255], V.ARRAY, sub_type=V.UINT8)
    w.add_key_value("test.arr_u64", [0, 18446744073709551615], V.ARRAY, sub_type=V.UINT64)
    w.add_key_value("test.arr_f64", [1.5, -2.0e300], V.ARRAY, sub_type=V.FLOAT64)
    w.add_array("test.nested", [[1, 2], [3], [4, 5, 6]])
    w.add_array("test.nested_str", [["x", "y"], ["z"]])
    w.add_uint32("llama.block_count", 2)
    w.add_tensor("token_embd.weight", np.arange(64, dtype=np.float32).reshape(2, 32))
    w.add_tensor("output_norm.weight", np.array([1.0, -2.0, 0.5, 0.25], dtype=np.float16))
    q = quantize(np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32), T.Q8_0)
    w.add_tensor("blk.0.attn_q.weight", q, raw_dtype=T.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> int:
    dtypes_path = os.path.join(ROOT, "tests", "fixtures", "dtypes", "dtypes.gguf")
    all_types_path = os.path.join(ROOT, "tests", "fixtures", "gguf", "all_types.gguf")
    os.makedirs(os.path.dirname(dtypes_path), exist_ok=True)
    os.makedirs(os.path.dirname(all_types_path), exist_ok=True)
    write_dtypes(dtypes_path)
    write_all_types(all_types_path)
    for p in (dtypes_path, all_types_path):
        print(f"{os.path.relpath(p, ROOT)}: {os.path.getsize(p)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
