#include "sessions/SessionSnapshotStore.h"

#include "sessions/SnapshotCompression.h"

#include "v4/error.h"
#include "v4/session.h"

#include <QCryptographicHash>
#include <QDataStream>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QtEndian>

namespace v4app::sessions {

namespace {

constexpr char    kMagic[4] = {'V', '4', 'S', 'S'};
constexpr quint32 kVersion  = 1;

struct Header {
    qint64     conversationId = 0;
    QByteArray modelKey;
    QByteArray prefixHash;
    quint32    tokenCount = 0;
    quint64    rawBytes   = 0;
    quint8     codec      = 0;
};

void writeHeader(QDataStream & out, const Header & h) {
    out.writeRawData(kMagic, 4);
    out << kVersion << h.conversationId << h.modelKey;
    out.writeRawData(h.prefixHash.constData(), 32);
    out << h.tokenCount << h.rawBytes << h.codec;
}

// False when the bytes are not a snapshot header this version can read.
bool readHeader(QDataStream & in, Header & h) {
    char    magic[4] = {};
    quint32 version  = 0;
    if (in.readRawData(magic, 4) != 4 || std::memcmp(magic, kMagic, 4) != 0) {
        return false;
    }
    in >> version;
    if (version != kVersion) {
        return false;
    }
    in >> h.conversationId >> h.modelKey;
    h.prefixHash.resize(32);
    if (in.readRawData(h.prefixHash.data(), 32) != 32) {
        return false;
    }
    in >> h.tokenCount >> h.rawBytes >> h.codec;
    return in.status() == QDataStream::Ok && (h.codec == quint8(Codec::Zlib) || h.codec == quint8(Codec::Zstd));
}

StorageError ioError(QString message) {
    return StorageError::make(StorageError::Kind::Io, std::move(message));
}

} // namespace

ModelIdentity ModelIdentity::ofFile(const QString & path) {
    const QFileInfo info(path);
    return {info.absoluteFilePath(), info.size(), info.lastModified().toMSecsSinceEpoch()};
}

QString ModelIdentity::key() const {
    return QStringLiteral("%1|%2|%3").arg(path).arg(size).arg(mtimeMs);
}

SessionSnapshotStore::SessionSnapshotStore(QString directory) : m_dir(std::move(directory)) {}

QString SessionSnapshotStore::pathFor(qint64 conversationId) const {
    return m_dir + QStringLiteral("/conversation-%1.v4snap").arg(conversationId);
}

QByteArray SessionSnapshotStore::prefixHash(std::span<const int32_t> tokens) {
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (int32_t t : tokens) {
        char le[4];
        qToLittleEndian<qint32>(t, le);
        hash.addData(QByteArrayView(le, 4));
    }
    return hash.result();
}

Expected<SnapshotInfo> SessionSnapshotStore::save(qint64 conversationId, const ModelIdentity & model,
                                                  const v4::session & session) {
    if (!QDir().mkpath(m_dir)) {
        return ioError(QStringLiteral("Could not create the snapshot folder %1.").arg(m_dir));
    }
    std::vector<uint8_t> raw;
    try {
        raw = session.save_state();
    } catch (const v4::Error & e) {
        return ioError(QStringLiteral("The engine could not save the session: %1").arg(QString::fromUtf8(e.what())));
    }
    Header h;
    h.conversationId = conversationId;
    h.modelKey       = model.key().toUtf8();
    h.prefixHash     = prefixHash(session.tokens());
    h.tokenCount     = quint32(session.tokens().size());
    h.rawBytes       = raw.size();
    h.codec          = quint8(preferredCodec());

    const QString path = pathFor(conversationId);
    QSaveFile     file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return ioError(QStringLiteral("Could not write %1: %2.").arg(path, file.errorString()));
    }
    QDataStream out(&file);
    out.setByteOrder(QDataStream::LittleEndian);
    writeHeader(out, h);
    QString error;
    if (!compressTo(Codec(h.codec), raw, file, &error)) {
        file.cancelWriting();
        return ioError(QStringLiteral("Could not save the session of conversation %1: %2.").arg(conversationId).arg(error));
    }
    if (!file.commit()) {
        return ioError(QStringLiteral("Could not write %1: %2 (is the disk full?).").arg(path, file.errorString()));
    }
    return SnapshotInfo{conversationId, int(h.tokenCount), qint64(h.rawBytes), QFileInfo(path).size(),
                        codecName(Codec(h.codec))};
}

Expected<RestoreOutcome> SessionSnapshotStore::restore(qint64 conversationId, const ModelIdentity & model,
                                                       std::span<const int32_t> tokens, v4::session & session) {
    const QString path = pathFor(conversationId);
    QFile         file(path);
    if (!file.exists()) {
        return RestoreOutcome{};
    }
    if (!file.open(QIODevice::ReadOnly)) {
        return ioError(QStringLiteral("Could not read %1: %2.").arg(path, file.errorString()));
    }
    auto stale = [&](QString why) {
        file.close();
        QFile::remove(path);
        return RestoreOutcome{0, std::move(why)};
    };
    QDataStream in(&file);
    in.setByteOrder(QDataStream::LittleEndian);
    Header h;
    if (!readHeader(in, h) || h.conversationId != conversationId) {
        return stale(QStringLiteral("not a snapshot this version can read"));
    }
    if (QString::fromUtf8(h.modelKey) != model.key()) {
        return stale(QStringLiteral("saved with another model file (%1)").arg(QString::fromUtf8(h.modelKey)));
    }
    if (h.tokenCount > tokens.size() || prefixHash(tokens.first(h.tokenCount)) != h.prefixHash) {
        return stale(QStringLiteral("the conversation's tokens differ from the saved prefix of %1").arg(h.tokenCount));
    }
    if (h.rawBytes > quint64(qint64(64) << 30)) {
        return stale(QStringLiteral("implausible size %1").arg(h.rawBytes));
    }
    std::vector<uint8_t> raw(h.rawBytes);
    QString              error;
    if (!decompressFrom(Codec(h.codec), file, raw, &error)) {
        return stale(error);
    }
    try {
        session.load_state(raw);
    } catch (const v4::Error & e) {
        return stale(QString::fromUtf8(e.what()));
    }
    return RestoreOutcome{int(h.tokenCount), {}};
}

void SessionSnapshotStore::drop(qint64 conversationId) {
    QFile::remove(pathFor(conversationId));
}

} // namespace v4app::sessions
