// ModelDownload: a download the user started (never the app by itself) of one model file, with
// progress, cancel and a SHA-256 check. Bytes go to "<target>.part" and are hashed as they
// arrive; only a file whose checksum matches is renamed to the target, so a cut, corrupt or
// tampered download is never used. Redirects to https mirrors are followed (not to http).
//
//     auto * d = new ModelDownload(url, AppPaths::defaultModelPath(), kDefaultModelSha256, this);
//     connect(d, &ModelDownload::progress, bar, ...);      // received, total (-1: unknown)
//     connect(d, &ModelDownload::finished, this, ...);     // the checked file is in place
//     connect(d, &ModelDownload::failed, this, ...);       // message for people
//     d->start();
#pragma once

#include <QByteArray>
#include <QCryptographicHash>
#include <QFile>
#include <QObject>
#include <QPointer>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;

namespace v4app {

// Where the default model (Gemma 3 270M, Q4_K_M) is fetched from and the SHA-256 it must have
// (the one in tools/models.sha256). V4_DEFAULT_MODEL_URL overrides the address (tests, mirrors).
QUrl       defaultModelUrl();
QByteArray defaultModelSha256();

class ModelDownload final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelDownload)

public:
    ModelDownload(QUrl url, QString targetPath, QByteArray expectedSha256Hex, QObject * parent = nullptr);
    ~ModelDownload() override;

    void start();
    void cancel(); // ends in failed("Download cancelled."); the partial file is removed
    bool isRunning() const;

signals:
    void progress(qint64 received, qint64 total);
    void finished(const QString & path);
    void failed(const QString & message);

private:
    void onReadyRead();
    void onFinished();
    void fail(const QString & message);

    QUrl                    m_url;
    QString                 m_target;
    QByteArray              m_expected;
    QNetworkAccessManager * m_nam = nullptr;
    QPointer<QNetworkReply> m_reply;
    QFile                   m_part;
    QCryptographicHash      m_hash{QCryptographicHash::Sha256};
    qint64                  m_received = 0;
    bool                    m_cancelled = false;
};

} // namespace v4app
