// d4_state serialisation (see deepseek4_state_io.h).
#include "models/deepseek4/deepseek4_state_io.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "v4/error.h"

namespace v4::deepseek4 {

namespace {

constexpr char k_magic[4] = {'D', '4', 'S', 'T'};
constexpr uint32_t k_version = 1;

template <class T>
void put(std::vector<uint8_t> & out, const T * p, size_t n) {
    const auto * b = reinterpret_cast<const uint8_t *>(p);
    out.insert(out.end(), b, b + n * sizeof(T));
}

void put_floats(std::vector<uint8_t> & out, const std::vector<float> & v) {
    const uint64_t n = v.size();
    put(out, &n, 1);
    put(out, v.data(), v.size());
}

[[noreturn]] void fail(const std::string & what) {
    throw Error(ErrorCode::format, "deepseek4 session state: " + what);
}

struct reader {
    std::span<const uint8_t> bytes;
    size_t pos = 0;
    template <class T>
    void get(T * p, size_t n, const std::string & what) {
        if (n > (bytes.size() - pos) / sizeof(T)) fail("truncated while reading " + what);
        std::memcpy(p, bytes.data() + pos, n * sizeof(T));
        pos += n * sizeof(T);
    }
    // A float vector that must hold exactly `want` values.
    std::vector<float> floats(uint64_t want, const std::string & what) {
        uint64_t n = 0;
        get(&n, 1, what);
        if (n != want) fail(what + " holds " + std::to_string(n) + " values, expected " + std::to_string(want));
        std::vector<float> v(static_cast<size_t>(n));
        get(v.data(), v.size(), what);
        return v;
    }
};

void save_comp(std::vector<uint8_t> & out, const d4_comp_state & c) {
    for (const std::vector<float> * v : {&c.buf_kv, &c.buf_gate, &c.prev_kv, &c.prev_gate, &c.entries}) put_floats(out, *v);
    put(out, &c.n_entries, 1);
}

// A compressor of `ratio` with entries of `dim` (width: 2 dim with the CSA overlap) after n_past tokens.
d4_comp_state load_comp(reader & r, int n_past, int ratio, int dim, bool overlap, const std::string & what) {
    const uint64_t width = uint64_t(overlap ? 2 : 1) * uint64_t(dim);
    const uint64_t closed = ratio > 0 ? uint64_t(n_past / ratio) : 0, open = ratio > 0 ? uint64_t(n_past % ratio) : 0;
    d4_comp_state c;
    c.buf_kv = r.floats(open * width, what + " open window (kv)");
    c.buf_gate = r.floats(open * width, what + " open window (gate)");
    const uint64_t prev = overlap && closed > 0 ? uint64_t(ratio) * width : 0;
    c.prev_kv = r.floats(prev, what + " previous window (kv)");
    c.prev_gate = r.floats(prev, what + " previous window (gate)");
    c.entries = r.floats(closed * uint64_t(dim), what + " entries");
    r.get(&c.n_entries, 1, what + " entry count");
    if (uint64_t(c.n_entries) != closed) fail(what + " has " + std::to_string(c.n_entries) + " entries, expected " + std::to_string(closed));
    return c;
}

} // namespace

std::vector<uint8_t> d4_save_state(const d4_state & s) {
    std::vector<uint8_t> out;
    put(out, k_magic, 4);
    const uint32_t header[] = {k_version, uint32_t(s.layers.size())};
    put(out, header, 2);
    put(out, &s.n_past, 1);
    for (const d4_layer_state & l : s.layers) {
        put_floats(out, l.kv_tail);
        save_comp(out, l.comp);
        save_comp(out, l.index_comp);
    }
    return out;
}

d4_state d4_load_state(const d4_model & m, std::span<const uint8_t> bytes) {
    const d4_config & c = m.cfg;
    reader r{bytes};
    char magic[4];
    r.get(magic, 4, "magic");
    if (std::memcmp(magic, k_magic, 4) != 0) fail("bad magic");
    uint32_t header[2];
    r.get(header, 2, "header");
    if (header[0] != k_version) fail("version " + std::to_string(header[0]) + " is not supported (expected " + std::to_string(k_version) + ")");
    if (header[1] != uint32_t(c.n_layers)) {
        fail(std::to_string(header[1]) + " layers, the model has " + std::to_string(c.n_layers));
    }
    d4_state s;
    r.get(&s.n_past, 1, "position");
    if (s.n_past < 0) fail("negative position " + std::to_string(s.n_past));
    s.layers.resize(size_t(c.n_layers));
    for (int il = 0; il < c.n_layers; il++) {
        const std::string layer = "layer " + std::to_string(il);
        const d4_attn type = c.attn_types[size_t(il)];
        d4_layer_state & l = s.layers[size_t(il)];
        l.kv_tail = r.floats(uint64_t(std::min(s.n_past, c.sliding_window - 1)) * uint64_t(c.head_dim), layer + " window");
        const int ratio = type == d4_attn::csa ? c.csa_ratio : type == d4_attn::hca ? c.hca_ratio : 0;
        l.comp = load_comp(r, s.n_past, ratio, type == d4_attn::sliding ? 0 : c.head_dim, type == d4_attn::csa, layer + " compressor");
        l.index_comp = load_comp(r, s.n_past, type == d4_attn::csa ? ratio : 0, type == d4_attn::csa ? c.index_head_dim : 0,
                                 type == d4_attn::csa, layer + " indexer compressor");
    }
    if (r.pos != bytes.size()) fail(std::to_string(bytes.size() - r.pos) + " bytes after the last layer");
    return s;
}

} // namespace v4::deepseek4
