// Small HTTP helpers for the server tests. The server runs in the test's own thread, so every
// helper waits by spinning the event loop (QTest::qWait), never with blocking socket calls.
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

namespace v4test {

struct RawReply {
    int         status = 0;
    QByteArray  head;
    QByteArray  body;
    const QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString     errorCode() const { return json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString(); }
};

// Sends `data` as is and reads one response (by Content-Length, or until the server closes).
inline RawReply rawExchange(quint16 port, const QByteArray & data, int timeoutMs = 10000) {
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    QByteArray received;
    bool       closed = false;
    QObject::connect(&socket, &QTcpSocket::readyRead, [&] { received += socket.readAll(); });
    QObject::connect(&socket, &QTcpSocket::disconnected, [&] { closed = true; });
    socket.write(data);
    QElapsedTimer timer;
    timer.start();
    RawReply reply;
    while (!closed && timer.elapsed() < timeoutMs) {
        const qsizetype end = received.indexOf("\r\n\r\n");
        if (end >= 0) {
            const QByteArray head   = received.left(end);
            const qsizetype  at     = head.toLower().indexOf("content-length:");
            if (at >= 0) {
                const qsizetype length = head.mid(at + 15, head.indexOf('\r', at) - at - 15).trimmed().toLongLong();
                if (received.size() >= end + 4 + length) {
                    break;
                }
            }
        }
        QTest::qWait(5);
    }
    const qsizetype end = received.indexOf("\r\n\r\n");
    if (end < 0) {
        return reply;
    }
    reply.head   = received.left(end);
    reply.body   = received.mid(end + 4);
    reply.status = reply.head.mid(9, 3).toInt();
    return reply;
}

inline QByteArray httpRequest(const QByteArray & method, const QByteArray & path, const QByteArray & body = {},
                              const QByteArray & extraHeaders = {}, const QByteArray & host = "127.0.0.1") {
    QByteArray r = method + ' ' + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeaders;
    if (!body.isEmpty() || method == "POST") {
        r += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    }
    return r + "Connection: close\r\n\r\n" + body;
}

} // namespace v4test
