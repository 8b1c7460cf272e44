#include "backends/SseParser.h"

namespace v4app {

SseParser::SseParser(qsizetype maxEventBytes) : m_maxEventBytes(maxEventBytes) {}

void SseParser::reset() {
    m_line.clear();
    m_data.clear();
    m_type.clear();
    m_id.clear();
    m_error.clear();
    m_comments = 0;
    m_retryMs = -1;
    m_lastWasCr = false;
    m_firstLine = true;
}

bool SseParser::fail(const QString & message) {
    m_error = message;
    // Give the memory back now: a failed stream must not keep megabytes alive.
    m_line = QByteArray();
    m_data = QByteArray();
    return false;
}

bool SseParser::feed(QByteArrayView bytes, QList<SseEvent> & events) {
    if (hasError()) {
        return false;
    }
    const char *    p = bytes.data();
    const qsizetype n = bytes.size();
    qsizetype       i = 0;
    if (n > 0 && m_lastWasCr) {
        m_lastWasCr = false;
        if (p[0] == '\n') {
            i = 1; // second half of a CRLF split across two feeds
        }
    }
    while (i < n) {
        qsizetype j = i;
        while (j < n && p[j] != '\n' && p[j] != '\r') {
            ++j;
        }
        // The limit covers the line being read plus the data already gathered for this event.
        if (m_line.size() + (j - i) + m_data.size() > m_maxEventBytes) {
            return fail(QStringLiteral("a server-sent event is larger than %1 MB")
                            .arg(double(m_maxEventBytes) / (1024.0 * 1024.0), 0, 'f', 1));
        }
        if (j == n) {
            m_line.append(p + i, n - i); // incomplete: wait for the rest of the line
            break;
        }
        if (m_line.isEmpty()) {
            processLine(QByteArrayView(p + i, j - i), events);
        } else {
            m_line.append(p + i, j - i);
            processLine(m_line, events);
            m_line.clear();
        }
        if (hasError()) {
            return false;
        }
        if (p[j] == '\r') {
            if (j + 1 < n) {
                if (p[j + 1] == '\n') {
                    ++j;
                }
            } else {
                m_lastWasCr = true;
            }
        }
        i = j + 1;
    }
    return true;
}

void SseParser::processLine(QByteArrayView line, QList<SseEvent> & events) {
    if (m_firstLine) {
        m_firstLine = false;
        if (line.startsWith("\xEF\xBB\xBF")) {
            line = line.sliced(3);
        }
    }
    if (line.isEmpty()) {
        // Blank line: dispatch. An event without data lines is dropped, as the spec says.
        if (!m_data.isEmpty()) {
            m_data.chop(1); // the '\n' after the last data line
            events.append(SseEvent{m_type, m_data, m_id});
        }
        m_data.clear();
        m_type.clear();
        return;
    }
    if (line.front() == ':') {
        ++m_comments;
        return;
    }
    const qsizetype colon = line.indexOf(':');
    QByteArrayView  field = colon < 0 ? line : line.first(colon);
    QByteArrayView  value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
    if (value.startsWith(' ')) {
        value = value.sliced(1);
    }
    if (field == "data") {
        m_data.append(value.data(), value.size());
        m_data.append('\n');
    } else if (field == "event") {
        m_type = value.toByteArray();
    } else if (field == "id") {
        if (!value.contains('\0')) {
            m_id = value.toByteArray();
        }
    } else if (field == "retry") {
        bool      ok = !value.isEmpty();
        qlonglong ms = 0;
        for (char c : value) {
            if (c < '0' || c > '9' || ms > 100'000'000) {
                ok = false;
                break;
            }
            ms = ms * 10 + (c - '0');
        }
        if (ok) {
            m_retryMs = int(ms);
        }
    }
    // Any other field is ignored, as the spec says.
}

} // namespace v4app
