// Splits extracted text into passages of about 1-2 KB on paragraph boundaries, for FTS5 and for
// packing into a context window. A chunk never spans a page break, so each one cites one page.
//
// Offsets: byte_start/byte_end index the UTF-8 text handed in (for UTF-8 text files that is the
// file itself, shifted by the BOM); lines are 1-based and inclusive; page is 1-based, 0 when the
// format has no pages. chunk.text == utf8.mid(byteStart, byteEnd - byteStart), byte for byte.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace v4app::documents {

struct Chunk {
    int     ordinal   = 0;
    qint64  byteStart = 0;
    qint64  byteEnd   = 0;
    int     lineStart = 1;
    int     lineEnd   = 1;
    int     page      = 0;
    QString text;
};

struct ChunkOptions {
    qsizetype targetBytes = 1536; // close a chunk once it is this long ...
    qsizetype maxBytes    = 2048; // ... or when the next paragraph would take it past this
};

// pageStarts: byte offsets where pages 1, 2, ... begin (empty: no pages). Must be ascending and
// start at 0.
QList<Chunk> chunkText(const QByteArray & utf8, const QList<qint64> & pageStarts = {},
                       const ChunkOptions & options = {});

} // namespace v4app::documents
