#include "backends/ImageAttachments.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonObject>

namespace v4app {

namespace {

QString megabytes(qsizetype bytes) {
    return QString::number(double(bytes) / (1024.0 * 1024.0), 'f', 1) + QStringLiteral(" MB");
}

QString displayName(const ChatAttachment & a) {
    return a.fileName.isEmpty() ? QStringLiteral("an attached image") : QStringLiteral("\"%1\"").arg(a.fileName);
}

} // namespace

QString sniffImageMimeType(const QByteArray & data) {
    if (data.startsWith("\x89PNG\r\n\x1a\n")) {
        return QStringLiteral("image/png");
    }
    if (data.startsWith("\xff\xd8\xff")) {
        return QStringLiteral("image/jpeg");
    }
    return {};
}

bool loadImageAttachment(const QString & path, ChatAttachment * attachment, QString * error) {
    const QFileInfo info(path);
    auto fail = [&](const QString & message) {
        if (error) {
            *error = message;
        }
        return false;
    };
    if (!info.isFile()) {
        return fail(QStringLiteral("Cannot attach \"%1\": the file does not exist.").arg(path));
    }
    if (info.size() > kMaxImageBytes) {
        return fail(QStringLiteral("Cannot attach \"%1\": it is %2; images can be at most %3.")
                        .arg(info.fileName(), megabytes(info.size()), megabytes(kMaxImageBytes)));
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("Cannot attach \"%1\": %2").arg(info.fileName(), file.errorString()));
    }
    ChatAttachment a;
    a.fileName = info.fileName();
    a.data = file.read(kMaxImageBytes + 1);
    a.mimeType = sniffImageMimeType(a.data);
    if (a.mimeType.isEmpty()) {
        return fail(QStringLiteral("Cannot attach \"%1\": only PNG and JPEG images can be attached.").arg(info.fileName()));
    }
    if (a.data.size() > kMaxImageBytes) {
        return fail(QStringLiteral("Cannot attach \"%1\": images can be at most %2.").arg(info.fileName(), megabytes(kMaxImageBytes)));
    }
    *attachment = std::move(a);
    return true;
}

QString checkImageAttachments(const QVector<ChatMessage> & messages) {
    qsizetype total = 0;
    for (const ChatMessage & m : messages) {
        for (const ChatAttachment & a : m.attachments) {
            const QString sniffed = sniffImageMimeType(a.data);
            if (sniffed.isEmpty()) {
                return QStringLiteral("%1 is not a PNG or JPEG image; only those can be sent.").arg(displayName(a));
            }
            if (!a.mimeType.isEmpty() && a.mimeType != sniffed) {
                return QStringLiteral("%1 is labelled %2 but is a %3 image.").arg(displayName(a), a.mimeType, sniffed);
            }
            if (a.data.size() > kMaxImageBytes) {
                return QStringLiteral("%1 is %2; images can be at most %3.")
                    .arg(displayName(a), megabytes(a.data.size()), megabytes(kMaxImageBytes));
            }
            total += a.data.size();
        }
    }
    if (total > kMaxRequestImageBytes) {
        return QStringLiteral("The images of this conversation add up to %1; at most %2 can be sent in one request. "
                              "Start a new conversation or remove some images.")
            .arg(megabytes(total), megabytes(kMaxRequestImageBytes));
    }
    return {};
}

bool hasAttachments(const QVector<ChatMessage> & messages) {
    for (const ChatMessage & m : messages) {
        if (!m.attachments.isEmpty()) {
            return true;
        }
    }
    return false;
}

QJsonArray contentParts(const ChatMessage & message) {
    QJsonArray parts;
    if (!message.content.isEmpty()) {
        parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), message.content}});
    }
    for (const ChatAttachment & a : message.attachments) {
        const QString url = QStringLiteral("data:%1;base64,").arg(sniffImageMimeType(a.data)) +
                            QString::fromLatin1(a.data.toBase64());
        parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")},
                                 {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), url}}}});
    }
    return parts;
}

} // namespace v4app
