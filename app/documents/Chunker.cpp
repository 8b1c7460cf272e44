#include "documents/Chunker.h"

#include <algorithm>

namespace v4app::documents {

namespace {

struct Span {
    qsizetype begin;
    qsizetype end;
};

bool isBlank(const char * s, qsizetype begin, qsizetype end) {
    for (qsizetype i = begin; i < end; ++i) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f') {
            return false;
        }
    }
    return true;
}

// Paragraphs of [begin, end): a paragraph ends after a blank line, so the blank lines stay with the
// paragraph before them and the spans cover the range without gaps.
QList<Span> paragraphs(const char * s, qsizetype begin, qsizetype end) {
    QList<Span> out;
    qsizetype   paraBegin = begin;
    bool        sawText   = false;
    qsizetype   line      = begin;
    while (line < end) {
        const char * nl      = static_cast<const char *>(memchr(s + line, '\n', size_t(end - line)));
        qsizetype    lineEnd = nl ? (nl - s) + 1 : end;
        const bool   blank   = isBlank(s, line, nl ? lineEnd - 1 : lineEnd);
        if (blank && sawText) {
            // swallow further blank lines, then close the paragraph
            qsizetype next = lineEnd;
            while (next < end) {
                const char * nl2  = static_cast<const char *>(memchr(s + next, '\n', size_t(end - next)));
                qsizetype    end2 = nl2 ? (nl2 - s) + 1 : end;
                if (!isBlank(s, next, nl2 ? end2 - 1 : end2)) {
                    break;
                }
                next = end2;
            }
            out.append({paraBegin, next});
            paraBegin = next;
            sawText   = false;
            line      = next;
            continue;
        }
        sawText = sawText || !blank;
        line    = lineEnd;
    }
    if (paraBegin < end) {
        out.append({paraBegin, end});
    }
    return out;
}

// A cut at or before `limit` that does not split a UTF-8 sequence: after the last newline, else
// after the last space, else at a code point boundary.
qsizetype cutPoint(const char * s, qsizetype begin, qsizetype limit) {
    for (qsizetype i = limit; i > begin + (limit - begin) / 2; --i) {
        if (s[i - 1] == '\n') {
            return i;
        }
    }
    for (qsizetype i = limit; i > begin + (limit - begin) / 2; --i) {
        if (s[i - 1] == ' ') {
            return i;
        }
    }
    qsizetype i = limit;
    while (i > begin + 1 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) {
        --i;
    }
    return i;
}

class Builder {
public:
    Builder(const QByteArray & utf8, const ChunkOptions & options) : m_s(utf8.constData()), m_options(options) {}

    void addRange(qsizetype begin, qsizetype end, int page) {
        m_page = page;
        qsizetype chunkBegin = begin;
        qsizetype chunkEnd   = begin;
        for (const Span & p : paragraphs(m_s, begin, end)) {
            if (chunkEnd > chunkBegin && (p.end - chunkBegin > m_options.maxBytes)) {
                closeChunk(chunkBegin, chunkEnd);
                chunkBegin = chunkEnd;
            }
            if (p.end - chunkBegin > m_options.maxBytes) { // one paragraph longer than a chunk
                qsizetype at = p.begin;
                while (p.end - at > m_options.maxBytes) {
                    const qsizetype cut = cutPoint(m_s, at, at + m_options.targetBytes);
                    closeChunk(at, cut);
                    at = cut;
                }
                chunkBegin = at;
            }
            chunkEnd = p.end;
            if (chunkEnd - chunkBegin >= m_options.targetBytes) {
                closeChunk(chunkBegin, chunkEnd);
                chunkBegin = chunkEnd;
            }
        }
        if (chunkEnd > chunkBegin) {
            closeChunk(chunkBegin, chunkEnd);
        }
    }

    QList<Chunk> take() { return std::move(m_chunks); }

private:
    void closeChunk(qsizetype begin, qsizetype end) {
        if (std::all_of(m_s + begin, m_s + end, [](char c) { return c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == '\f'; })) {
            advanceLines(end);
            return; // nothing searchable (blank lines between pages)
        }
        Chunk c;
        c.ordinal   = int(m_chunks.size());
        c.byteStart = begin;
        c.byteEnd   = end;
        advanceLines(begin);
        c.lineStart = m_line;
        // the last line of the chunk: a trailing newline belongs to the line it ends
        advanceLines(end > begin && m_s[end - 1] == '\n' ? end - 1 : end);
        c.lineEnd = m_line;
        advanceLines(end);
        c.page = m_page;
        c.text = QString::fromUtf8(m_s + begin, end - begin);
        m_chunks.append(std::move(c));
    }

    // Lines are counted incrementally: chunks only move forward.
    void advanceLines(qsizetype to) {
        if (to > m_lineScan) {
            m_line += int(std::count(m_s + m_lineScan, m_s + to, '\n'));
            m_lineScan = to;
        }
    }

    const char *         m_s;
    const ChunkOptions & m_options;
    QList<Chunk>         m_chunks;
    qsizetype            m_lineScan = 0;
    int                  m_line     = 1;
    int                  m_page     = 0;
};

} // namespace

QList<Chunk> chunkText(const QByteArray & utf8, const QList<qint64> & pageStarts, const ChunkOptions & options) {
    Builder builder(utf8, options);
    if (pageStarts.isEmpty()) {
        builder.addRange(0, utf8.size(), 0);
    } else {
        for (qsizetype i = 0; i < pageStarts.size(); ++i) {
            const qsizetype end = i + 1 < pageStarts.size() ? pageStarts[i + 1] : utf8.size();
            builder.addRange(pageStarts[i], end, int(i) + 1);
        }
    }
    return builder.take();
}

} // namespace v4app::documents
