#include "modes/ModelDownload.h"

#include <QDir>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace v4app {

QUrl defaultModelUrl() {
    const QByteArray overridden = qgetenv("V4_DEFAULT_MODEL_URL");
    if (!overridden.isEmpty()) {
        return QUrl(QString::fromUtf8(overridden));
    }
    return QUrl(QStringLiteral("https://huggingface.co/ggml-org/gemma-3-270m-GGUF/resolve/main/gemma-3-270m-Q4_K_M.gguf"));
}

QByteArray defaultModelSha256() { return QByteArrayLiteral("a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"); }

ModelDownload::ModelDownload(QUrl url, QString targetPath, QByteArray expectedSha256Hex, QObject * parent)
    : QObject(parent), m_url(std::move(url)), m_target(std::move(targetPath)), m_expected(expectedSha256Hex.toLower()),
      m_nam(new QNetworkAccessManager(this)) {}

ModelDownload::~ModelDownload() {
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
    if (m_part.isOpen()) {
        m_part.remove();
    }
}

bool ModelDownload::isRunning() const { return !m_reply.isNull(); }

void ModelDownload::start() {
    if (m_reply) {
        return;
    }
    m_cancelled = false;
    m_received = 0;
    m_hash.reset();
    if (!QDir().mkpath(QFileInfo(m_target).absolutePath())) {
        emit failed(tr("Cannot create the folder %1.").arg(QFileInfo(m_target).absolutePath()));
        return;
    }
    m_part.setFileName(m_target + QStringLiteral(".part"));
    if (!m_part.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        emit failed(tr("Cannot write %1: %2").arg(m_part.fileName(), m_part.errorString()));
        return;
    }
    QNetworkRequest request(m_url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("V4Chat"));
    m_reply = m_nam->get(request);
    connect(m_reply, &QNetworkReply::readyRead, this, &ModelDownload::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &ModelDownload::onFinished);
    connect(m_reply, &QNetworkReply::downloadProgress, this, [this](qint64 received, qint64 total) {
        emit progress(received, total > 0 ? total : -1);
    });
}

void ModelDownload::cancel() {
    if (m_reply) {
        m_cancelled = true;
        m_reply->abort(); // finished() follows at once
    }
}

void ModelDownload::onReadyRead() {
    const QByteArray chunk = m_reply->readAll();
    if (m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() >= 400) {
        return; // an error page; onFinished reports the status
    }
    if (m_part.write(chunk) != chunk.size()) {
        const QString why = m_part.errorString();
        QNetworkReply * reply = m_reply;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
        fail(tr("Writing the model failed (%1). Is the disk full?").arg(why));
        return;
    }
    m_hash.addData(chunk);
    m_received += chunk.size();
}

void ModelDownload::onFinished() {
    QNetworkReply * reply = m_reply;
    if (!reply) {
        return; // already failed
    }
    reply->deleteLater();
    if (m_cancelled) {
        fail(tr("Download cancelled."));
        return;
    }
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->error() != QNetworkReply::NoError || status >= 400) {
        fail(status >= 400 ? tr("The server answered HTTP %1 for %2.").arg(status).arg(m_url.toString())
                           : tr("Download failed: %1").arg(reply->errorString()));
        return;
    }
    onReadyRead();
    if (!m_part.isOpen()) {
        return; // the last write failed
    }
    if (!m_part.flush()) {
        fail(tr("Writing the model failed (%1). Is the disk full?").arg(m_part.errorString()));
        return;
    }
    m_part.close();
    const QByteArray got = m_hash.result().toHex();
    if (got != m_expected) {
        fail(tr("The downloaded file is damaged or not the expected model (SHA-256 %1, expected %2); it was deleted.")
                 .arg(QString::fromLatin1(got.left(12)), QString::fromLatin1(m_expected.left(12))));
        return;
    }
    QFile::remove(m_target); // a stale file that failed its own check earlier
    if (!QFile::rename(m_part.fileName(), m_target)) {
        fail(tr("Cannot move the model into place at %1.").arg(m_target));
        return;
    }
    m_reply = nullptr;
    emit finished(m_target);
}

void ModelDownload::fail(const QString & message) {
    m_reply = nullptr;
    m_part.close();
    m_part.remove();
    emit failed(message);
}

} // namespace v4app
