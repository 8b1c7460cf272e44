// SnapshotCompression: the codec for saved session states. zstd (level 1: a 32k-token Gemma 270M
// state is 1.2 GB, and saving must not take longer than the prefill it saves) when the build found
// libzstd, else zlib through qCompress. The codec is recorded in each snapshot, so a build without
// zstd reports a zstd snapshot as unreadable (and drops it) instead of misreading it.
//
// Compression streams into a QIODevice (no second copy of a gigabyte in memory); decompression
// fills a buffer whose size the caller knows from the snapshot header.
#pragma once

#include <QIODevice>
#include <QString>

#include <cstdint>
#include <span>
#include <vector>

namespace v4app::sessions {

enum class Codec : uint8_t { Zlib = 1, Zstd = 2 };

Codec   preferredCodec();
QString codecName(Codec codec);

// Writes `raw` compressed to `out`; false with `error` filled on failure.
bool compressTo(Codec codec, std::span<const uint8_t> raw, QIODevice & out, QString * error);
// Reads the rest of `in` and decompresses it into `raw` (already sized to the uncompressed length).
bool decompressFrom(Codec codec, QIODevice & in, std::vector<uint8_t> & raw, QString * error);

} // namespace v4app::sessions
