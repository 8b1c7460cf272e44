#include "sessions/SessionSnapshotStore.h"

#include "sessions/SnapshotCompression.h"

#include "v4/error.h"
#include "v4/session.h"

#include <QDataStream>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStorageInfo>

#include <algorithm>
#include <cstring>

namespace v4app::sessions {

namespace {

constexpr char    kMagic[4] = {'V', '4', 'S', 'S'};
constexpr quint32 kVersion  = 2; // 1 had a SHA-256 of the tokens instead of the tokens
constexpr quint32 kMaxTokens = 1u << 24;

struct Header {
    qint64     conversationId = 0;
    QByteArray modelKey;
    std::vector<int32_t> tokens;
    quint64    rawBytes   = 0;
    quint8     codec      = 0;
};

void writeHeader(QDataStream & out, const Header & h) {
    out.writeRawData(kMagic, 4);
    out << kVersion << h.conversationId << h.modelKey << quint32(h.tokens.size());
    for (int32_t t : h.tokens) {
        out << qint32(t);
    }
    out << h.rawBytes << h.codec;
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
    quint32 count = 0;
    in >> h.conversationId >> h.modelKey >> count;
    if (in.status() != QDataStream::Ok || count > kMaxTokens) {
        return false;
    }
    h.tokens.resize(count);
    for (int32_t & t : h.tokens) {
        qint32 v = 0;
        in >> v;
        t = v;
    }
    in >> h.rawBytes >> h.codec;
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

Expected<SessionCapture> SessionSnapshotStore::capture(const v4::session & session) {
    SessionCapture c;
    try {
        c.state = session.save_state();
    } catch (const v4::Error & e) {
        return ioError(QStringLiteral("The engine could not save the session: %1").arg(QString::fromUtf8(e.what())));
    }
    c.tokens = session.tokens();
    return c;
}

Expected<SnapshotInfo> SessionSnapshotStore::save(qint64 conversationId, const ModelIdentity & model,
                                                  const v4::session & session) {
    auto c = capture(session);
    if (!c) {
        return c.error();
    }
    return save(conversationId, model, c.value());
}

Expected<SnapshotInfo> SessionSnapshotStore::save(qint64 conversationId, const ModelIdentity & model,
                                                  const SessionCapture & capture) {
    if (!QDir().mkpath(m_dir)) {
        return ioError(QStringLiteral("Could not create the snapshot folder %1.").arg(m_dir));
    }
    // Compressed output is at most about the raw size; leave room so a snapshot never fills the disk.
    constexpr qint64 kReserve = qint64(512) << 20;
    const QStorageInfo disk(m_dir);
    if (disk.isValid() && disk.bytesAvailable() >= 0 && disk.bytesAvailable() < qint64(capture.state.size()) + kReserve) {
        return ioError(QStringLiteral("Not enough free disk space in %1 for a %2 MB session snapshot (%3 MB free).")
                           .arg(m_dir).arg(capture.state.size() >> 20).arg(disk.bytesAvailable() >> 20));
    }
    Header h;
    h.conversationId = conversationId;
    h.modelKey       = model.key().toUtf8();
    h.tokens         = capture.tokens;
    h.rawBytes       = capture.state.size();
    h.codec          = quint8(preferredCodec());
    const std::vector<uint8_t> & raw = capture.state;

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
    return SnapshotInfo{conversationId, int(h.tokens.size()), qint64(h.rawBytes), QFileInfo(path).size(),
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
    const size_t common = size_t(std::mismatch(h.tokens.begin(), h.tokens.end(), tokens.begin(), tokens.end()).first - h.tokens.begin());
    if (common == 0 || common < h.tokens.size() / 8) {
        return stale(QStringLiteral("the conversation's tokens differ from the saved ones after %1 of %2")
                         .arg(common).arg(h.tokens.size()));
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
        session.clear(); // whatever a refused load left behind is not a valid cache
        return stale(QString::fromUtf8(e.what()));
    }
    return RestoreOutcome{int(common), {}};
}

void SessionSnapshotStore::drop(qint64 conversationId) {
    QFile::remove(pathFor(conversationId));
}

QStringList SessionSnapshotStore::prune(const SnapshotBudget & budget, qint64 keepConversationId) const {
    QFileInfoList files = QDir(m_dir).entryInfoList({QStringLiteral("conversation-*.v4snap")}, QDir::Files, QDir::Time);
    qint64 total = 0;
    for (const QFileInfo & f : files) {
        total += f.size();
    }
    const QString keep = QFileInfo(pathFor(keepConversationId)).fileName();
    QStringList   removed;
    // Newest first: remove from the back while over either limit.
    for (qsizetype i = files.size() - 1; i >= 0 && (files.size() - removed.size() > budget.maxFiles || total > budget.maxBytes); --i) {
        const QFileInfo & f = files.at(i);
        if (f.fileName() != keep && QFile::remove(f.absoluteFilePath())) {
            total -= f.size();
            removed << f.absoluteFilePath();
        }
    }
    return removed;
}

} // namespace v4app::sessions
