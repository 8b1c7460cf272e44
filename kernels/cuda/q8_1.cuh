// q8_1 activation blocks: 32 consecutive values x as d * q, q = round(x / d) in -127..127,
// d = max |x| / 127, stored with d * sum(q) (so the block's sum is at hand for the weights' minimum
// and offset terms). Written by one warp per block, lane l holding value l; shared by the
// standalone quantizer and the RMSNorm that quantizes its output in the same pass.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace v4::kernels::cuda {

// Every lane of the warp calls this with its value; lane l writes q[l], lane 0 writes *ds.
__device__ __forceinline__ void quantize_q8_1_block(float v, int8_t * q, float2 * ds, int lane) {
    float amax = fabsf(v);
    for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    const float d = amax / 127.0f;
    const int   qi = d > 0.0f ? __float2int_rn(v / d) : 0;
    int         sum = qi;
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    q[lane] = static_cast<int8_t>(qi);
    if (lane == 0) *ds = make_float2(d, d * static_cast<float>(sum));
}

} // namespace v4::kernels::cuda
