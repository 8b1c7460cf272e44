#include "sessions/SnapshotCompression.h"

#include <QByteArray>
#include <QtEndian>

#if V4_HAVE_ZSTD
#include <zstd.h>
#endif

namespace v4app::sessions {

namespace {

// zlib path: independent qCompress blocks of 32 MiB ([u32 compressed length][qCompress bytes]),
// because qCompress takes one QByteArray and a state can be larger than what it accepts at once.
constexpr qsizetype kZlibBlock = qsizetype(32) << 20;

bool writeAll(QIODevice & out, const char * data, qint64 n, QString * error) {
    if (out.write(data, n) != n) {
        *error = QStringLiteral("could not write the snapshot: %1").arg(out.errorString());
        return false;
    }
    return true;
}

bool zlibCompress(std::span<const uint8_t> raw, QIODevice & out, QString * error) {
    for (size_t pos = 0; pos < raw.size(); pos += kZlibBlock) {
        const qsizetype  n     = qsizetype(std::min<size_t>(kZlibBlock, raw.size() - pos));
        const QByteArray block = qCompress(reinterpret_cast<const uchar *>(raw.data() + pos), n, 1);
        uchar            len[4];
        qToLittleEndian<quint32>(quint32(block.size()), len);
        if (!writeAll(out, reinterpret_cast<const char *>(len), 4, error) ||
            !writeAll(out, block.constData(), block.size(), error)) {
            return false;
        }
    }
    return true;
}

bool zlibDecompress(QIODevice & in, std::vector<uint8_t> & raw, QString * error) {
    size_t pos = 0;
    while (pos < raw.size()) {
        const QByteArray len = in.read(4);
        if (len.size() != 4) {
            *error = QStringLiteral("the snapshot is truncated");
            return false;
        }
        const quint32    n     = qFromLittleEndian<quint32>(len.constData());
        const QByteArray block = qUncompress(in.read(n));
        if (block.isEmpty() || pos + size_t(block.size()) > raw.size()) {
            *error = QStringLiteral("the snapshot is damaged (zlib block at %1)").arg(pos);
            return false;
        }
        std::memcpy(raw.data() + pos, block.constData(), size_t(block.size()));
        pos += size_t(block.size());
    }
    return true;
}

#if V4_HAVE_ZSTD
bool zstdCompress(std::span<const uint8_t> raw, QIODevice & out, QString * error) {
    std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setPledgedSrcSize(ctx.get(), raw.size());
    std::vector<char> buffer(ZSTD_CStreamOutSize());
    ZSTD_inBuffer     input{raw.data(), raw.size(), 0};
    for (;;) {
        ZSTD_outBuffer output{buffer.data(), buffer.size(), 0};
        const size_t   left = ZSTD_compressStream2(ctx.get(), &output, &input, ZSTD_e_end);
        if (ZSTD_isError(left)) {
            *error = QStringLiteral("zstd: %1").arg(QString::fromUtf8(ZSTD_getErrorName(left)));
            return false;
        }
        if (!writeAll(out, buffer.data(), qint64(output.pos), error)) {
            return false;
        }
        if (left == 0) {
            return true;
        }
    }
}

bool zstdDecompress(QIODevice & in, std::vector<uint8_t> & raw, QString * error) {
    std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    ZSTD_outBuffer output{raw.data(), raw.size(), 0};
    size_t         last = 1;
    for (;;) {
        const QByteArray chunk = in.read(qint64(4) << 20);
        if (chunk.isEmpty()) {
            break;
        }
        ZSTD_inBuffer input{chunk.constData(), size_t(chunk.size()), 0};
        while (input.pos < input.size) {
            last = ZSTD_decompressStream(ctx.get(), &output, &input);
            if (ZSTD_isError(last)) {
                *error = QStringLiteral("the snapshot is damaged (zstd: %1)").arg(QString::fromUtf8(ZSTD_getErrorName(last)));
                return false;
            }
            if (output.pos == output.size && input.pos < input.size && last != 0) {
                *error = QStringLiteral("the snapshot holds more data than its header says");
                return false;
            }
        }
    }
    if (last != 0 || output.pos != output.size) {
        *error = QStringLiteral("the snapshot is truncated");
        return false;
    }
    return true;
}
#endif

} // namespace

Codec preferredCodec() {
#if V4_HAVE_ZSTD
    return Codec::Zstd;
#else
    return Codec::Zlib;
#endif
}

QString codecName(Codec codec) {
    return codec == Codec::Zstd ? QStringLiteral("zstd") : QStringLiteral("zlib");
}

bool compressTo(Codec codec, std::span<const uint8_t> raw, QIODevice & out, QString * error) {
    if (codec == Codec::Zlib) {
        return zlibCompress(raw, out, error);
    }
#if V4_HAVE_ZSTD
    return zstdCompress(raw, out, error);
#else
    *error = QStringLiteral("this build has no zstd");
    return false;
#endif
}

bool decompressFrom(Codec codec, QIODevice & in, std::vector<uint8_t> & raw, QString * error) {
    if (codec == Codec::Zlib) {
        return zlibDecompress(in, raw, error);
    }
#if V4_HAVE_ZSTD
    return zstdDecompress(in, raw, error);
#else
    *error = QStringLiteral("the snapshot was compressed with zstd, which this build lacks");
    return false;
#endif
}

} // namespace v4app::sessions
