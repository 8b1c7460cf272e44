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

// Windows-1252 bytes 0x80-0x9F (C1 controls in Latin-1); 0 = undefined there, kept as Latin-1.
// Qt 6.4's QStringDecoder has no Windows-1252, and real "not UTF-8" files are mostly 1252: their
// curly quotes, dashes and € would otherwise turn into invisible control characters.
constexpr char16_t kCp1252High[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178};

// Latin-1, or Windows-1252 when the text uses its 0x80-0x9F characters.
DecodedText decodeSingleByte(const QByteArray & bytes) {
    QString text(bytes.size(), Qt::Uninitialized);
    bool    cp1252 = false;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        char16_t   u = c;
        if (c >= 0x80 && c < 0xA0 && kCp1252High[c - 0x80]) {
            u      = kCp1252High[c - 0x80];
            cp1252 = true;
        }
        text[i] = QChar(u);
    }
    return {text.toUtf8(), QString::fromLatin1(cp1252 ? "Windows-1252" : "Latin-1"), 0, false};
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
    return decodeSingleByte(bytes);
}

} // namespace v4app::documents
