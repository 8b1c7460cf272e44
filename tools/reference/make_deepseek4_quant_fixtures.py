#!/usr/bin/env python3
"""Fixtures for the DeepSeek-V4 weight formats (spec §5), decoded by torch:

  e4m3_table   [256] f32   torch's float8_e4m3fn value of every byte (NaN for 0x7F / 0xFF)
  fp8.weight   [200, 300] F8_E4M3 + fp8.weight_scale_inv [2, 3] F32 (HF FP8 layout, 128x128 blocks)
  fp8e.weight  same codes + fp8e.scale [2, 3] F8_E8M0 (the released checkpoints' UE8M0 scales)
  fp8.expected [200, 300] f32 torch's dequantization (codes.float() * block scale)
  fp4.weight   [64, 48] I8 (two E2M1 codes per byte, element 2k = low nibble) + fp4.scale [64, 3] F8_E8M0
  fp4.expected [64, 96] f32 torch's dequantization

Seeded; rerunning rewrites identical bytes.
    python tools/reference/make_deepseek4_quant_fixtures.py   # -> tests/fixtures/deepseek4/quant/
"""
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "deepseek4", "quant")
FP4 = torch.tensor([0, .5, 1, 1.5, 2, 3, 4, 6, -0., -.5, -1, -1.5, -2, -3, -4, -6])


def main():
    g = torch.Generator().manual_seed(4)
    t = {"e4m3_table": torch.arange(256, dtype=torch.uint8).view(torch.float8_e4m3fn).float()}

    rows, cols, block = 200, 300, 128
    w = torch.randn(rows, cols, generator=g) * torch.linspace(0.01, 3.0, cols)
    sr, sc = -(-rows // block), -(-cols // block)
    scale = torch.empty(sr, sc)
    codes = torch.empty(rows, cols, dtype=torch.float8_e4m3fn)
    for i in range(sr):
        for j in range(sc):
            blk = w[i * block:(i + 1) * block, j * block:(j + 1) * block]
            s = 2.0 ** torch.ceil(torch.log2(blk.abs().max() / 448.0))  # UE8M0: a power of two
            scale[i, j] = s
            codes[i * block:(i + 1) * block, j * block:(j + 1) * block] = (blk / s).to(torch.float8_e4m3fn)
    full_scale = scale.repeat_interleave(block, 0)[:rows].repeat_interleave(block, 1)[:, :cols]
    t["fp8.weight"] = codes
    t["fp8.weight_scale_inv"] = scale
    t["fp8e.weight"] = codes.clone()
    t["fp8e.scale"] = scale.to(torch.float8_e8m0fnu)
    t["fp8.expected"] = codes.float() * full_scale

    r4, c4 = 64, 96
    code4 = torch.randint(0, 16, (r4, c4), generator=g, dtype=torch.uint8)
    exps = torch.randint(118, 132, (r4, c4 // 32), generator=g, dtype=torch.uint8)
    t["fp4.weight"] = (code4[:, 0::2] | (code4[:, 1::2] << 4)).view(torch.int8)
    t["fp4.scale"] = exps.view(torch.float8_e8m0fnu)
    t["fp4.expected"] = FP4[code4.long()] * exps.view(torch.float8_e8m0fnu).float().repeat_interleave(32, 1)

    os.makedirs(OUT, exist_ok=True)
    save_file(t, os.path.join(OUT, "formats.safetensors"))


if __name__ == "__main__":
    main()
