#include "ScriptedServer.h"

#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

namespace v4test {

QByteArray httpHead(int status, const QByteArray & contentType, const QList<QByteArray> & extraHeaders, bool chunked,
                    qsizetype contentLength) {
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + (status < 300 ? " OK" : " Error") + "\r\n";
    head += "Content-Type: " + contentType + "\r\n";
    head += "Connection: close\r\n";
    if (chunked) {
        head += "Transfer-Encoding: chunked\r\n";
    } else if (contentLength >= 0) {
        head += "Content-Length: " + QByteArray::number(contentLength) + "\r\n";
    }
    for (const QByteArray & h : extraHeaders) {
        head += h + "\r\n";
    }
    return head + "\r\n";
}

QByteArray httpChunk(const QByteArray & data) {
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

QByteArray jsonResponse(int status, const QByteArray & json, const QList<QByteArray> & extraHeaders) {
    return httpHead(status, "application/json", extraHeaders, false, json.size()) + json;
}

Script sseScript(const QByteArray & body, const QList<QByteArray> & extraHeaders) {
    Script s;
    s.steps.append(Step{httpHead(200, "text/event-stream", extraHeaders) + body});
    return s;
}

ScriptedServer::ScriptedServer(QObject * parent) : QObject(parent) {
    connect(&m_server, &QTcpServer::newConnection, this, &ScriptedServer::onConnection);
    clock.start();
}

bool ScriptedServer::listen() {
    return m_server.listen(QHostAddress::LocalHost, 0);
}

QUrl ScriptedServer::baseUrl() const {
    return QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port()));
}

namespace {

// Per-connection state; a child of its socket, so it dies with it.
class Connection : public QObject {
public:
    Connection(QTcpSocket * socket, ScriptedServer * server, QList<Script> * scripts)
        : QObject(socket), m_socket(socket), m_server(server), m_scripts(scripts) {
        connect(socket, &QTcpSocket::readyRead, this, [this] { onRead(); });
        connect(socket, &QTcpSocket::disconnected, this, [this] {
            if (!m_weClosed && m_server) {
                ++m_server->clientClosed;
                if (m_server->clientClosedAtMs < 0) {
                    m_server->clientClosedAtMs = m_server->clock.elapsed();
                }
            }
            m_socket->deleteLater();
        });
    }

private:
    void onRead() {
        m_buffer += m_socket->readAll();
        if (m_started) {
            return;
        }
        const qsizetype headEnd = m_buffer.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            return;
        }
        SeenRequest      request;
        const QList<QByteArray> lines = m_buffer.left(headEnd).split('\n');
        const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
        request.method = first.value(0);
        request.path = first.value(1);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon > 0) {
                request.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
            }
        }
        const qsizetype length = request.headers.value("content-length", "0").toLongLong();
        if (m_buffer.size() < headEnd + 4 + length) {
            return; // body not complete yet
        }
        request.body = m_buffer.mid(headEnd + 4, length);
        m_started = true;
        if (m_server) {
            m_server->requests.append(request);
        }
        if (m_scripts->isEmpty()) {
            m_script.steps.append(Step{jsonResponse(500, R"({"error":{"message":"test server has no script left"}})")});
        } else {
            m_script = m_scripts->takeFirst();
        }
        playStep(0);
    }

    void playStep(int index) {
        if (index >= m_script.steps.size()) {
            if (m_script.closeAtEnd) {
                m_weClosed = true;
                m_socket->disconnectFromHost();
            }
            return;
        }
        const Step & step = m_script.steps[index];
        if (step.hang) {
            return;
        }
        QTimer::singleShot(step.delayMs, this, [this, index] {
            const Step & s = m_script.steps[index];
            if (s.dripMs > 0) {
                drip(index, 0);
            } else {
                m_socket->write(s.bytes);
                m_socket->flush();
                playStep(index + 1);
            }
        });
    }

    void drip(int index, qsizetype pos) {
        const QByteArray & bytes = m_script.steps[index].bytes;
        if (pos >= bytes.size()) {
            playStep(index + 1);
            return;
        }
        if (m_socket->state() != QAbstractSocket::ConnectedState) {
            return;
        }
        m_socket->write(bytes.mid(pos, 1));
        m_socket->flush();
        QTimer::singleShot(m_script.steps[index].dripMs, this, [this, index, pos] { drip(index, pos + 1); });
    }

    QTcpSocket *              m_socket;
    QPointer<ScriptedServer>  m_server;
    QList<Script> *           m_scripts;
    Script                    m_script;
    QByteArray                m_buffer;
    bool                      m_started = false;
    bool                      m_weClosed = false;
};

} // namespace

void ScriptedServer::onConnection() {
    while (QTcpSocket * socket = m_server.nextPendingConnection()) {
        new Connection(socket, this, &m_scripts);
    }
}

} // namespace v4test
