// A tiny HTTP/1.1 server on 127.0.0.1 for the settings and wizard tests: fixed answers by path
// (GET /v1/models for "Test connection", a model file for the download), one request per
// connection. Counts requests so a test can prove nothing was fetched behind the user's back.
#pragma once

#include <QHash>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>

class LoopbackHttpServer final : public QTcpServer {
public:
    struct Answer {
        int        status = 200;
        QByteArray contentType = "application/json";
        QByteArray body;
    };

    LoopbackHttpServer() { listen(QHostAddress::LocalHost, 0); }

    void setAnswer(const QByteArray & path, Answer answer) { m_answers.insert(path, std::move(answer)); }
    QUrl url(const QString & path = {}) const {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(serverPort()).arg(path));
    }
    int              requests() const { return m_requests; }
    const QByteArray & lastAuthorization() const { return m_lastAuthorization; }

protected:
    void incomingConnection(qintptr handle) override {
        auto * socket = new QTcpSocket(this);
        socket->setSocketDescriptor(handle);
        connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
            m_buffers[socket] += socket->readAll();
            const QByteArray & request = m_buffers[socket];
            const qsizetype end = request.indexOf("\r\n\r\n");
            if (end < 0) return;
            ++m_requests;
            const QByteArray head = request.left(end);
            const QByteArray path = head.split(' ').value(1);
            for (const QByteArray & line : head.split('\n')) {
                if (line.toLower().startsWith("authorization:")) m_lastAuthorization = line.mid(14).trimmed();
            }
            const Answer a = m_answers.value(path, Answer{404, "application/json", R"({"error":{"message":"no such path"}})"});
            QByteArray response = "HTTP/1.1 " + QByteArray::number(a.status) + (a.status == 200 ? " OK" : " Error") +
                                  "\r\nContent-Type: " + a.contentType + "\r\nContent-Length: " +
                                  QByteArray::number(a.body.size()) + "\r\nConnection: close\r\n\r\n" + a.body;
            socket->write(response);
            socket->disconnectFromHost();
            m_buffers.remove(socket);
        });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }

private:
    QHash<QByteArray, Answer>      m_answers;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    int                            m_requests = 0;
    QByteArray                     m_lastAuthorization;
};
