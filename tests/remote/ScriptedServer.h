// ScriptedServer: a loopback HTTP/1.1 server for tests that replays scripted answers byte for
// byte, with delays, byte-by-byte drips, hangs and abrupt closes, and records what it saw
// (requests, and sockets closed by the client). Listens on 127.0.0.1 only, on a free port.
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QMap>
#include <QObject>
#include <QTcpServer>
#include <QUrl>

namespace v4test {

struct Step {
    QByteArray bytes;
    int        delayMs = 0; // wait before this step
    int        dripMs = 0;  // > 0: send one byte every dripMs
    bool       hang = false; // stop here and keep the connection open
};

struct Script {
    QList<Step> steps;
    bool        closeAtEnd = true; // close the socket after the last step
};

struct SeenRequest {
    QByteArray                    method;
    QByteArray                    path;
    QMap<QByteArray, QByteArray>  headers; // names in lower case
    QByteArray                    body;
};

// Wire helpers.
QByteArray httpHead(int status, const QByteArray & contentType, const QList<QByteArray> & extraHeaders = {},
                    bool chunked = false, qsizetype contentLength = -1);
QByteArray httpChunk(const QByteArray & data);
QByteArray jsonResponse(int status, const QByteArray & json, const QList<QByteArray> & extraHeaders = {});
Script     sseScript(const QByteArray & body, const QList<QByteArray> & extraHeaders = {});

class ScriptedServer final : public QObject {
    Q_OBJECT

public:
    explicit ScriptedServer(QObject * parent = nullptr);

    bool listen();
    quint16 port() const { return m_server.serverPort(); }
    QUrl    baseUrl() const; // http://127.0.0.1:<port>/v1

    void enqueue(const Script & script) { m_scripts.append(script); }

    QList<SeenRequest> requests;
    int                clientClosed = 0;     // sockets the client closed before we did
    qint64             clientClosedAtMs = -1; // m_clock time of the first such close
    QElapsedTimer      clock;

private:
    void onConnection();

    QTcpServer    m_server;
    QList<Script> m_scripts;
};

} // namespace v4test
