#include "server/HttpConnection.h"

#include "server/ChatCompletions.h"

#include <QTimer>

namespace v4app {

namespace {

bool isTokenChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView s) {
    if (s.isEmpty()) {
        return false;
    }
    for (const char c : s) {
        if (!isTokenChar(c)) {
            return false;
        }
    }
    return true;
}

} // namespace

QByteArray HttpRequest::header(const QByteArray & lowerName) const {
    for (const auto & [name, value] : headers) {
        if (name == lowerName) {
            return value;
        }
    }
    return {};
}

HttpConnection::HttpConnection(QTcpSocket * socket, qsizetype maxBodyBytes, QObject * parent)
    : QObject(parent), m_socket(socket), m_maxBodyBytes(maxBodyBytes) {
    socket->setParent(this);
    m_idle.setSingleShot(true);
    m_idle.setInterval(kIdleTimeoutMs);
    connect(&m_idle, &QTimer::timeout, this, [this] {
        if (!m_busy && m_socket) {
            m_closing = true;
            m_socket->abort();
            onDisconnected();
        }
    });
    m_idle.start();
    connect(socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(socket, &QTcpSocket::disconnected, this, &HttpConnection::onDisconnected);
    connect(socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        if (error == QAbstractSocket::RemoteHostClosedError || !m_socket ||
            m_socket->state() != QAbstractSocket::ConnectedState) {
            onDisconnected();
        }
    });
}

HttpConnection::~HttpConnection() = default;

bool HttpConnection::isOpen() const { return m_socket && m_socket->state() == QAbstractSocket::ConnectedState && !m_closing; }

void HttpConnection::onDisconnected() {
    m_closing = true;
    if (!m_closedEmitted) {
        m_closedEmitted = true;
        emit closed();
    }
}

void HttpConnection::onReadyRead() {
    if (!m_socket) {
        return;
    }
    const QByteArray data = m_socket->readAll();
    if (m_closing || m_streaming) {
        return; // nothing more is read once we answer by closing or while streaming
    }
    m_buffer += data;
    parse();
}

void HttpConnection::parse() {
    while (!m_busy && !m_closing) {
        if (m_bodyLength < 0) {
            // Tolerate empty lines before a request line (RFC 9112 2.2).
            while (m_buffer.startsWith("\r\n")) {
                m_buffer.remove(0, 2);
            }
            const qsizetype end = m_buffer.indexOf("\r\n\r\n");
            if (end < 0) {
                if (m_buffer.size() > kMaxHeaderBytes) {
                    protocolError(431, "headers_too_large", QStringLiteral("request line and headers exceed 16 KiB"));
                }
                return;
            }
            if (end + 4 > kMaxHeaderBytes) {
                protocolError(431, "headers_too_large", QStringLiteral("request line and headers exceed 16 KiB"));
                return;
            }
            const QByteArray head = m_buffer.left(end);
            m_buffer.remove(0, end + 4);
            if (!parseHead(head)) {
                return;
            }
        }
        if (m_buffer.size() < m_bodyLength) {
            return;
        }
        m_request.body = m_buffer.left(m_bodyLength);
        m_buffer.remove(0, m_bodyLength);
        m_bodyLength = -1;
        m_busy       = true;
        m_idle.stop();
        const HttpRequest request = std::exchange(m_request, {});
        emit requestReady(request);
    }
}

bool HttpConnection::parseHead(const QByteArray & head) {
    const QList<QByteArray> lines = head.split('\n');
    QList<QByteArray>       clean;
    for (const QByteArray & line : lines) {
        if (!line.endsWith('\r') && &line != &lines.last()) {
            protocolError(400, "bad_request", QStringLiteral("header lines must end with CRLF"));
            return false;
        }
        clean.append(line.endsWith('\r') ? line.chopped(1) : line);
    }
    const QList<QByteArray> parts = clean.first().split(' ');
    if (parts.size() != 3 || !isToken(parts[0]) || !parts[1].startsWith('/') ||
        (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0")) {
        protocolError(400, "bad_request", QStringLiteral("malformed request line"));
        return false;
    }
    m_request         = {};
    m_request.method  = parts[0];
    m_request.version = parts[2];
    const qsizetype q = parts[1].indexOf('?');
    m_request.path    = q < 0 ? parts[1] : parts[1].left(q);
    m_request.query   = q < 0 ? QByteArray() : parts[1].mid(q + 1);

    qsizetype contentLength = -1;
    for (qsizetype i = 1; i < clean.size(); ++i) {
        const QByteArray & line  = clean.at(i);
        const qsizetype    colon = line.indexOf(':');
        if (colon <= 0 || !isToken(QByteArrayView(line).first(colon))) {
            protocolError(400, "bad_request", QStringLiteral("malformed header line"));
            return false;
        }
        const QByteArray name  = line.left(colon).toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (value.contains('\r') || value.contains('\0')) {
            protocolError(400, "bad_request", QStringLiteral("control characters in a header value"));
            return false;
        }
        if (name == "content-length") {
            bool            ok = false;
            const qsizetype n  = value.toLongLong(&ok);
            if (!ok || n < 0 || !isToken(value) || (contentLength >= 0 && contentLength != n)) {
                protocolError(400, "bad_request", QStringLiteral("invalid Content-Length"));
                return false;
            }
            contentLength = n;
        }
        m_request.headers.append({name, value});
    }
    if (!m_request.header("transfer-encoding").isEmpty()) {
        protocolError(411, "length_required", QStringLiteral("send the body with Content-Length (chunked request bodies are not accepted)"));
        return false;
    }
    if (m_request.version == "HTTP/1.1" && m_request.header("host").isEmpty()) {
        protocolError(400, "bad_request", QStringLiteral("HTTP/1.1 requests need a Host header"));
        return false;
    }
    if (contentLength > m_maxBodyBytes) {
        protocolError(413, "request_too_large",
                      QStringLiteral("the request body is %1 bytes; the limit is %2").arg(contentLength).arg(m_maxBodyBytes));
        return false;
    }
    const QByteArray connection = m_request.header("connection").toLower();
    m_keepAlive  = m_request.version == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive");
    m_bodyLength = contentLength < 0 ? 0 : contentLength;
    return true;
}

void HttpConnection::protocolError(int status, const QByteArray & code, const QString & message) {
    m_busy      = true;
    m_keepAlive = false;
    m_linger    = true; // the client may still be sending a body we will not read
    respondJson(status, errorBody({status, "invalid_request_error", code, message, {}}));
}

QByteArray HttpConnection::reasonPhrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

void HttpConnection::respond(int status, const QByteArray & contentType, const QByteArray & body,
                             const QList<QPair<QByteArray, QByteArray>> & extraHeaders) {
    if (!isOpen() || m_streaming) {
        return;
    }
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    out += "Content-Type: " + contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += m_keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    for (const auto & [name, value] : extraHeaders) {
        out += name + ": " + value + "\r\n";
    }
    out += "\r\n";
    out += body;
    m_socket->write(out);
    finishResponse(m_keepAlive);
}

void HttpConnection::respondJson(int status, const QByteArray & json, const QList<QPair<QByteArray, QByteArray>> & extraHeaders) {
    respond(status, "application/json", json, extraHeaders);
}

void HttpConnection::beginEventStream() {
    if (!isOpen() || m_streaming) {
        return;
    }
    m_streaming = true;
    m_socket->write("HTTP/1.1 200 OK\r\n"
                    "Content-Type: text/event-stream\r\n"
                    "Cache-Control: no-cache\r\n"
                    "Connection: close\r\n"
                    "X-Accel-Buffering: no\r\n"
                    "\r\n");
}

void HttpConnection::sendEvent(const QByteArray & data) {
    if (m_streaming && isOpen()) {
        m_socket->write("data: " + data + "\n\n");
    }
}

void HttpConnection::sendComment(const QByteArray & text) {
    if (m_streaming && isOpen()) {
        m_socket->write(": " + text + "\n\n");
    }
}

void HttpConnection::endEventStream() {
    if (m_streaming) {
        finishResponse(false);
    }
}

void HttpConnection::finishResponse(bool keepAlive) {
    m_busy = false;
    if (!keepAlive) {
        m_closing = true;
        if (!m_socket) {
            return;
        }
        if (m_linger) {
            // Closing with unread input makes the kernel send RST, which can destroy the answer
            // before the client reads it: keep draining (onReadyRead discards) for a moment, or
            // until the client closes, which it does once it has read a "Connection: close" answer.
            QTimer::singleShot(1000, m_socket, [socket = m_socket] { socket->disconnectFromHost(); });
        } else {
            m_socket->disconnectFromHost(); // after the written data is sent
        }
        return;
    }
    m_idle.start();
    parse(); // a pipelined request may already be waiting
}

} // namespace v4app
