// SseParser: incremental parser for a text/event-stream body (the WHATWG "server-sent events"
// format that OpenAI-compatible servers stream chat completions in).
//
// Feed it bytes exactly as they arrive; chunk boundaries may fall anywhere, even inside a UTF-8
// sequence or between the "\r" and "\n" of a CRLF, and the events that come out are the same.
// Data stays bytes (the JSON parser decodes UTF-8 once a whole event is there), so a split
// multi-byte character is never decoded half-way.
//
// Handled: LF, CRLF and CR line ends; a leading UTF-8 BOM; comments (": keep-alive");
// "data:" lines joined with "\n"; "event:", "id:" and "retry:" fields; one optional space after
// the colon. A line or an event larger than maxEventBytes stops the parser with an error instead
// of buffering without bound; after that feed() returns false until reset().
//
//     SseParser parser;
//     QList<SseEvent> events;
//     if (!parser.feed(reply->readAll(), events)) { fail(parser.errorString()); }
//     for (const SseEvent & e : events) { if (e.data == "[DONE]") ...; }
//
// Not thread-safe; one parser per stream.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

namespace v4app {

struct SseEvent {
    QByteArray type; // value of the "event:" field; empty means the default type "message"
    QByteArray data; // the "data:" lines of the event joined with "\n" (no trailing newline)
    QByteArray id;   // last "id:" seen so far in the stream

    bool operator==(const SseEvent & other) const = default;
};

class SseParser final {
public:
    static constexpr qsizetype kDefaultMaxEventBytes = 8 * 1024 * 1024;

    explicit SseParser(qsizetype maxEventBytes = kDefaultMaxEventBytes);

    // Parses more of the stream and appends every event completed by these bytes to events.
    // Returns false when the stream broke the size limit (now or earlier).
    bool feed(QByteArrayView bytes, QList<SseEvent> & events);

    // Forgets all state, including an error: ready for a new stream.
    void reset();

    bool      hasError() const { return !m_error.isEmpty(); }
    QString   errorString() const { return m_error; }
    int       commentCount() const { return m_comments; }  // ": ..." lines seen (keep-alives)
    int       retryMs() const { return m_retryMs; }        // last "retry:" value, -1 if none
    qsizetype bufferedBytes() const { return m_line.size() + m_data.size(); }
    qsizetype maxEventBytes() const { return m_maxEventBytes; }

private:
    void processLine(QByteArrayView line, QList<SseEvent> & events);
    bool fail(const QString & message);

    qsizetype  m_maxEventBytes;
    QByteArray m_line;  // an incomplete line carried over from the previous feed()
    QByteArray m_data;  // data of the event being built, each line followed by '\n'
    QByteArray m_type;
    QByteArray m_id;
    QString    m_error;
    int        m_comments = 0;
    int        m_retryMs = -1;
    bool       m_lastWasCr = false; // the previous feed() ended in '\r': skip a leading '\n'
    bool       m_firstLine = true;  // a BOM may only start the stream
};

} // namespace v4app
