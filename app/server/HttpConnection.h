// HttpConnection: one client socket of the local API server, HTTP/1.1 by hand on QTcpSocket.
//
// Why not QHttpServer: Qt 6.4's QHttpServerResponder writes a whole response at once (the
// incremental writeBeginChunked/writeChunk API arrived in 6.8), buffers the whole request body
// before any handler can refuse it, and gives no signal when the client goes away, which is how a
// disconnect must cancel its generation. A strict parser of the small HTTP subset that API
// clients use is less code than working around all three.
//
// The parser is strict and bounded: request line and headers at most 16 KiB (else 431), header
// names are tokens, no obsolete line folding, one consistent Content-Length, no request
// Transfer-Encoding (411), body at most the server's limit (413 before reading it), HTTP/1.1
// requires Host. Any protocol error is answered once and the connection is closed.
// Keep-alive holds for ordinary responses; a streamed (SSE) response ends by closing.
//
// Lives on the server's thread.
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

namespace v4app {

struct HttpRequest {
    QByteArray method;  // "GET", "POST", ...
    QByteArray path;    // without the query
    QByteArray query;
    QByteArray version; // "HTTP/1.1" or "HTTP/1.0"
    QList<QPair<QByteArray, QByteArray>> headers; // names lower-cased, values trimmed
    QByteArray body;

    QByteArray header(const QByteArray & lowerName) const;
};

class HttpConnection final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpConnection)

public:
    static constexpr qsizetype kMaxHeaderBytes = 16 * 1024;
    static constexpr int       kIdleTimeoutMs  = 30'000; // waiting for (the rest of) a request

    HttpConnection(QTcpSocket * socket, qsizetype maxBodyBytes, QObject * parent = nullptr);
    ~HttpConnection() override;

    bool isOpen() const;
    bool isBusy() const { return m_busy; } // a request is being answered

    // A complete answer; closes afterwards unless the request allows keep-alive.
    void respond(int status, const QByteArray & contentType, const QByteArray & body,
                 const QList<QPair<QByteArray, QByteArray>> & extraHeaders = {});
    void respondJson(int status, const QByteArray & json, const QList<QPair<QByteArray, QByteArray>> & extraHeaders = {});

    // A text/event-stream answer: headers now, then events, then close.
    void beginEventStream();
    bool isStreaming() const { return m_streaming; }
    void sendEvent(const QByteArray & data);   // "data: <data>\n\n"
    void sendComment(const QByteArray & text); // ": <text>\n\n" (keep-alive)
    void endEventStream();                     // flushes and closes

    static QByteArray reasonPhrase(int status);

signals:
    void requestReady(const v4app::HttpRequest & request);
    void closed(); // the client went away or the connection was closed; emitted once

private:
    void onReadyRead();
    void parse();
    bool parseHead(const QByteArray & head);
    void protocolError(int status, const QByteArray & code, const QString & message);
    void finishResponse(bool keepAlive);
    void onDisconnected();

    QPointer<QTcpSocket> m_socket;
    qsizetype            m_maxBodyBytes;
    QTimer               m_idle; // closes connections that send nothing (or too slowly) while not answered
    QByteArray           m_buffer;
    HttpRequest          m_request;
    qsizetype            m_bodyLength = -1; // -1: still reading the head
    bool                 m_busy = false;
    bool                 m_keepAlive = false;
    bool                 m_streaming = false;
    bool                 m_closing = false;
    bool                 m_linger = false;
    bool                 m_closedEmitted = false;
};

} // namespace v4app

Q_DECLARE_METATYPE(v4app::HttpRequest)
