// Encoding detection for imported text files: BOMs (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE), then strict
// UTF-8 validation, then Latin-1 as the fallback (every byte sequence is valid Latin-1, so text that
// is neither UTF-8 nor marked is still readable), read as Windows-1252 when bytes 0x80-0x9F occur
// (its quotes, dashes and €; in Latin-1 they would be invisible C1 controls).
// Binary detection: a NUL byte or too many control characters in the first 8 KiB.
#pragma once

#include <QByteArray>
#include <QString>

namespace v4app::documents {

struct DecodedText {
    QByteArray utf8;       // the text as UTF-8 (chunk byte offsets refer to this)
    QString    encoding;   // "UTF-8", "UTF-8 (BOM)", "UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE", "Latin-1", "Windows-1252"
    qint64     bomBytes = 0; // bytes skipped at the start of the file
    // True when utf8 is the file's own bytes (minus the BOM), so chunk offsets + bomBytes are file
    // offsets; false when the text was converted.
    bool       offsetsAreFileOffsets = false;
};

bool       isValidUtf8(const char * data, qsizetype size);
bool       looksBinary(const QByteArray & bytes); // NUL or >10% control bytes in the first 8 KiB (no BOM)
DecodedText decodeText(const QByteArray & bytes);  // never fails; check looksBinary() first

} // namespace v4app::documents
