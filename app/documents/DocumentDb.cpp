#include "documents/DocumentDb.h"

#include <QFileInfo>

#include <sqlite3.h>

namespace v4app::documents {

Statement::Statement(Statement && other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_stmt(std::exchange(other.m_stmt, nullptr)), m_bindRc(other.m_bindRc) {}

Statement & Statement::operator=(Statement && other) noexcept {
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_db     = std::exchange(other.m_db, nullptr);
        m_stmt   = std::exchange(other.m_stmt, nullptr);
        m_bindRc = other.m_bindRc;
    }
    return *this;
}

Statement::~Statement() {
    sqlite3_finalize(m_stmt);
}

Statement & Statement::bind(int index, qint64 value) {
    const int rc = sqlite3_bind_int64(m_stmt, index, value);
    m_bindRc     = m_bindRc ? m_bindRc : rc;
    return *this;
}

Statement & Statement::bind(int index, const QString & value) {
    if (value.isNull()) {
        return bindNull(index);
    }
    const QByteArray utf8 = value.toUtf8();
    return bindUtf8(index, utf8.constData(), utf8.size());
}

Statement & Statement::bindUtf8(int index, const char * data, qsizetype size) {
    const int rc = sqlite3_bind_text64(m_stmt, index, data, sqlite3_uint64(size), SQLITE_TRANSIENT, SQLITE_UTF8);
    m_bindRc     = m_bindRc ? m_bindRc : rc;
    return *this;
}

Statement & Statement::bindNull(int index) {
    const int rc = sqlite3_bind_null(m_stmt, index);
    m_bindRc     = m_bindRc ? m_bindRc : rc;
    return *this;
}

Expected<bool> Statement::step() {
    if (m_bindRc != SQLITE_OK) {
        return m_db->error(m_bindRc, QStringLiteral("Binding a value for “%1”").arg(QString::fromUtf8(sqlite3_sql(m_stmt))));
    }
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    StorageError e = m_db->error(rc, QStringLiteral("Running “%1”").arg(QString::fromUtf8(sqlite3_sql(m_stmt)).simplified().left(120)));
    sqlite3_reset(m_stmt);
    return e;
}

Status Statement::run() {
    for (;;) {
        auto row = step();
        if (!row) {
            return row.error();
        }
        if (!row.value()) {
            return {};
        }
    }
}

void Statement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    m_bindRc = SQLITE_OK;
}

bool Statement::isNull(int column) const {
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

qint64 Statement::int64(int column) const {
    return sqlite3_column_int64(m_stmt, column);
}

double Statement::real(int column) const {
    return sqlite3_column_double(m_stmt, column);
}

QString Statement::text(int column) const {
    const auto * data = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
    return data ? QString::fromUtf8(data, sqlite3_column_bytes(m_stmt, column)) : QString();
}

StorageError DocumentDb::error(int rc, const QString & context) const {
    StorageError e;
    e.sqliteCode         = rc;
    const QString detail = m_db ? QString::fromUtf8(sqlite3_errmsg(m_db)) : QString::fromUtf8(sqlite3_errstr(rc));
    switch (rc & 0xff) {
        case SQLITE_NOTADB:
            e.kind    = StorageError::Kind::NotADatabase;
            e.message = QStringLiteral("“%1” is not a V4 Chat documents database (not an SQLite file, or encrypted). "
                                       "It was left untouched.")
                            .arg(m_path);
            return e;
        case SQLITE_CORRUPT:
            e.kind    = StorageError::Kind::Corrupt;
            e.message = QStringLiteral("The documents database “%1” is damaged (%2). Move it aside and import the "
                                       "documents again.")
                            .arg(m_path, detail);
            return e;
        case SQLITE_FULL:
            e.kind    = StorageError::Kind::DiskFull;
            e.message = QStringLiteral("The disk is full: could not save to “%1”. Nothing was half-imported; free "
                                       "some space and try again.")
                            .arg(m_path);
            return e;
        case SQLITE_READONLY:
        case SQLITE_PERM:
            e.kind = StorageError::Kind::ReadOnly;
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            e.kind = StorageError::Kind::Busy;
            break;
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
            e.kind = StorageError::Kind::Io;
            break;
        default:
            e.kind = StorageError::Kind::Sql;
    }
    e.message = QStringLiteral("%1 in “%2” failed: %3.").arg(context, m_path, detail);
    return e;
}

Expected<std::unique_ptr<DocumentDb>> DocumentDb::open(const QString & path, int latestVersion) {
    sqlite3 *  raw = nullptr;
    const int  rc  = sqlite3_open_v2(path.toUtf8().constData(), &raw,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<DocumentDb> db(new DocumentDb(raw, path));
    if (rc != SQLITE_OK) {
        return db->error(rc, QStringLiteral("Opening"));
    }
    sqlite3_extended_result_codes(raw, 1);
    auto count = db->queryInt(QStringLiteral("SELECT count(*) FROM sqlite_schema")); // first read: NOTADB here
    if (!count) {
        return count.error();
    }
    auto version = db->queryInt(QStringLiteral("PRAGMA user_version"));
    if (!version) {
        return version.error();
    }
    if (version.value() > latestVersion) {
        return StorageError::make(StorageError::Kind::TooNew,
                                  QStringLiteral("“%1” was written by a newer version of V4 Chat (documents schema %2, "
                                                 "this version knows %3). Update V4 Chat to open it.")
                                      .arg(path)
                                      .arg(version.value())
                                      .arg(latestVersion));
    }
    db->m_userVersion = int(version.value());
    if (auto s = db->exec(QStringLiteral("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; "
                                         "PRAGMA journal_size_limit=67108864;"));
        !s) {
        return s.error();
    }
    sqlite3_busy_timeout(raw, 5000);
    return db;
}

DocumentDb::~DocumentDb() {
    sqlite3_close_v2(m_db);
}

Status DocumentDb::exec(const QString & sql) {
    char *    message = nullptr;
    const int rc      = sqlite3_exec(m_db, sql.toUtf8().constData(), nullptr, nullptr, &message);
    sqlite3_free(message);
    if (rc != SQLITE_OK) {
        return error(rc, QStringLiteral("Running “%1”").arg(sql.simplified().left(120)));
    }
    return {};
}

Expected<Statement> DocumentDb::prepare(const QString & sql) {
    sqlite3_stmt *   stmt = nullptr;
    const QByteArray utf8 = sql.toUtf8();
    const int        rc   = sqlite3_prepare_v3(m_db, utf8.constData(), int(utf8.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        return error(rc, QStringLiteral("Preparing “%1”").arg(sql.simplified().left(120)));
    }
    return Statement(this, stmt);
}

Expected<qint64> DocumentDb::queryInt(const QString & sql) {
    auto stmt = prepare(sql);
    if (!stmt) {
        return stmt.error();
    }
    auto row = stmt->step();
    if (!row) {
        return row.error();
    }
    return row.value() ? stmt->int64(0) : qint64(0);
}

Expected<QStringList> DocumentDb::integrityCheck() {
    auto stmt = prepare(QStringLiteral("PRAGMA integrity_check"));
    if (!stmt) {
        return stmt.error();
    }
    QStringList lines;
    for (;;) {
        auto row = stmt->step();
        if (!row) {
            return row.error();
        }
        if (!row.value()) {
            return lines;
        }
        lines.append(stmt->text(0));
    }
}

qint64 DocumentDb::lastInsertId() const {
    return sqlite3_last_insert_rowid(m_db);
}

DbTransaction::~DbTransaction() {
    if (m_active) {
        sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

Status DbTransaction::begin() {
    if (auto s = m_db.exec(QStringLiteral("BEGIN IMMEDIATE")); !s) {
        return s;
    }
    m_active = true;
    return {};
}

Status DbTransaction::commit() {
    if (auto s = m_db.exec(QStringLiteral("COMMIT")); !s) {
        return s;
    }
    m_active = false;
    return {};
}

} // namespace v4app::documents
