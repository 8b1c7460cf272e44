// How closely two forwards' logits agree, accumulated over chunks: the worst |diff| / max |logit| of
// any row and how many rows share their top-1. Shared by the DeepSeek-V4 forward checks (device vs
// CPU, reference ops vs CPU).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

struct logit_agreement {
    double worst = 0;
    int    rows = 0;
    int    same_top1 = 0;

    // want and got hold the same rows of n_vocab logits each.
    void add(const std::vector<float> & want, const std::vector<float> & got, int n_vocab) {
        const size_t n = static_cast<size_t>(n_vocab);
        for (size_t r = 0; r < want.size() / n; r++) {
            const float * w = &want[r * n];
            const float * g = &got[r * n];
            float scale = 0;
            for (size_t v = 0; v < n; v++) scale = std::max(scale, std::abs(w[v]));
            for (size_t v = 0; v < n; v++) worst = std::max(worst, double(std::abs(w[v] - g[v]) / scale));
            same_top1 += (std::max_element(w, w + n) - w) == (std::max_element(g, g + n) - g);
            rows++;
        }
    }
};
