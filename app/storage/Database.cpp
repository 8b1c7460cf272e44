#include "storage/Database.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <sqlite3.h>

Q_LOGGING_CATEGORY(lcStorage, "v4.storage")

namespace v4app {

QString storageErrorKindName(StorageError::Kind kind) {
    switch (kind) {
        case StorageError::Kind::NotADatabase: return QStringLiteral("NotADatabase");
        case StorageError::Kind::Corrupt: return QStringLiteral("Corrupt");
        case StorageError::Kind::TooNew: return QStringLiteral("TooNew");
        case StorageError::Kind::ReadOnly: return QStringLiteral("ReadOnly");
        case StorageError::Kind::DiskFull: return QStringLiteral("DiskFull");
        case StorageError::Kind::Io: return QStringLiteral("Io");
        case StorageError::Kind::Busy: return QStringLiteral("Busy");
        case StorageError::Kind::NotFound: return QStringLiteral("NotFound");
        case StorageError::Kind::InvalidInput: return QStringLiteral("InvalidInput");
        case StorageError::Kind::Sql: return QStringLiteral("Sql");
    }
    return QStringLiteral("Unknown");
}

namespace {

// Times are milliseconds since the Unix epoch (UTC) in INTEGER columns: sortable, compact and
// free of time-zone text. Every table is STRICT-free on purpose: SQLite 3.40 has STRICT, but a file
// with STRICT tables cannot be opened by SQLite < 3.37 (e.g. a user's sqlite3 shell for recovery).
const QList<Migration> kMigrations = {
    {1, "conversations and messages with branches", R"sql(
CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    title           TEXT    NOT NULL DEFAULT '',
    mode            TEXT    NOT NULL DEFAULT '',
    pinned          INTEGER NOT NULL DEFAULT 0,
    -- the leaf of the branch the user looks at; the path to the root is the active branch
    current_leaf_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER -- soft delete (undo); purged later
);
CREATE TABLE messages (
    id                   INTEGER PRIMARY KEY,
    conversation_id      INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- regenerate and edit add a sibling (same parent); NULL for the first message
    parent_id            INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    role                 TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content              TEXT    NOT NULL DEFAULT '',
    thinking             TEXT    NOT NULL DEFAULT '',
    model                TEXT    NOT NULL DEFAULT '',
    backend              TEXT    NOT NULL DEFAULT '',
    mode                 TEXT    NOT NULL DEFAULT '',
    prompt_tokens        INTEGER,
    completion_tokens    INTEGER,
    reused_prompt_tokens INTEGER,
    ttft_ms              REAL,
    tokens_per_s         REAL,
    finish_reason        TEXT,
    status               TEXT    NOT NULL DEFAULT 'complete'
                         CHECK (status IN ('complete', 'streaming', 'interrupted', 'failed', 'cancelled')),
    error                TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
-- siblings: (conversation_id, parent_id IS ?) ordered by id; also serves the cascade from conversations
CREATE INDEX messages_tree            ON messages(conversation_id, parent_id, id);
CREATE INDEX messages_by_parent       ON messages(parent_id);
CREATE INDEX messages_streaming       ON messages(status) WHERE status = 'streaming';
CREATE INDEX conversations_sidebar    ON conversations(pinned DESC, updated_at DESC, id DESC)
                                      WHERE deleted_at IS NULL;
CREATE INDEX conversations_current_leaf ON conversations(current_leaf_id);
)sql"},
    // External-content FTS5 tables: the text lives once, in messages/conversations; the triggers
    // keep the index in step inside the same transaction as the change.
    {2, "full-text search over titles and message content", R"sql(
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE conversations_fts USING fts5(
    title, content='conversations', content_rowid='id', tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;

CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.id, old.title);
END;
CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.id, old.title);
    INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
END;

INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild');
)sql"},
    // The document passage behind each [n] of an answer, so its citation links survive a restart.
    // chunk_id is documents.sqlite3's chunks.id: another file, so no foreign key (a removed
    // document's citation opens "removed" instead).
    {3, "citations of answers", R"sql(
CREATE TABLE message_citations (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    chunk_id   INTEGER NOT NULL,
    PRIMARY KEY (message_id, number)
) WITHOUT ROWID;
)sql"},
};

QString describe(const QString & path) {
    return QDir::toNativeSeparators(path);
}

} // namespace

// ---- SqlStatement ---------------------------------------------------------------------------

SqlStatement::SqlStatement(Database * db, sqlite3_stmt * stmt, QString sql) :
    m_db(db), m_stmt(stmt), m_sql(std::move(sql)) {}

SqlStatement::SqlStatement(SqlStatement && other) noexcept :
    m_db(other.m_db), m_stmt(std::exchange(other.m_stmt, nullptr)), m_sql(std::move(other.m_sql)),
    m_bindRc(other.m_bindRc) {}

SqlStatement & SqlStatement::operator=(SqlStatement && other) noexcept {
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_db     = other.m_db;
        m_stmt   = std::exchange(other.m_stmt, nullptr);
        m_sql    = std::move(other.m_sql);
        m_bindRc = other.m_bindRc;
    }
    return *this;
}

SqlStatement::~SqlStatement() {
    sqlite3_finalize(m_stmt);
}

SqlStatement & SqlStatement::bind(int index, qint64 value) {
    const int rc = sqlite3_bind_int64(m_stmt, index, value);
    if (rc != SQLITE_OK && m_bindRc == SQLITE_OK) {
        m_bindRc = rc;
    }
    return *this;
}

SqlStatement & SqlStatement::bind(int index, double value) {
    const int rc = sqlite3_bind_double(m_stmt, index, value);
    if (rc != SQLITE_OK && m_bindRc == SQLITE_OK) {
        m_bindRc = rc;
    }
    return *this;
}

SqlStatement & SqlStatement::bind(int index, const QString & value) {
    if (value.isNull()) {
        return bindNull(index);
    }
    const QByteArray utf8 = value.toUtf8();
    const int rc = sqlite3_bind_text64(m_stmt, index, utf8.constData(), static_cast<sqlite3_uint64>(utf8.size()),
                                       SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK && m_bindRc == SQLITE_OK) {
        m_bindRc = rc;
    }
    return *this;
}

SqlStatement & SqlStatement::bindNull(int index) {
    const int rc = sqlite3_bind_null(m_stmt, index);
    if (rc != SQLITE_OK && m_bindRc == SQLITE_OK) {
        m_bindRc = rc;
    }
    return *this;
}

Expected<bool> SqlStatement::step() {
    if (m_bindRc != SQLITE_OK) {
        return m_db->errorFromCode(m_bindRc, QStringLiteral("Binding a value for “%1”").arg(m_sql.simplified()));
    }
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    StorageError error = m_db->errorFromCode(rc, QStringLiteral("Running “%1”").arg(m_sql.simplified().left(120)));
    sqlite3_reset(m_stmt);
    return error;
}

Status SqlStatement::forEachRow(const std::function<void()> & onRow) {
    for (;;) {
        auto row = step();
        if (!row) {
            return row.error();
        }
        if (!row.value()) {
            return {};
        }
        onRow();
    }
}

Status SqlStatement::run() {
    return forEachRow([] {});
}

void SqlStatement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    m_bindRc = SQLITE_OK;
}

bool SqlStatement::isNull(int column) const {
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

qint64 SqlStatement::int64(int column) const {
    return sqlite3_column_int64(m_stmt, column);
}

double SqlStatement::real(int column) const {
    return sqlite3_column_double(m_stmt, column);
}

QString SqlStatement::text(int column) const {
    const auto * data  = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
    const int    bytes = sqlite3_column_bytes(m_stmt, column);
    return data ? QString::fromUtf8(data, bytes) : QString();
}

// ---- Database -------------------------------------------------------------------------------

const QList<Migration> & Database::migrations() {
    return kMigrations;
}

int Database::latestVersion() {
    return latestVersion(kMigrations);
}

int Database::latestVersion(const QList<Migration> & steps) {
    return steps.isEmpty() ? 0 : steps.back().version;
}

QString Database::markerPath(const QString & path) {
    return path + QStringLiteral(".in-use");
}

Database::Database(sqlite3 * db, QString path, const QList<Migration> * migrations, QString noun) :
    m_db(db), m_path(std::move(path)), m_migrations(migrations ? migrations : &kMigrations), m_noun(std::move(noun)) {}

Database::~Database() {
    // The last connection to close checkpoints the WAL into the main file and deletes it.
    const int rc = sqlite3_close(m_db);
    if (rc != SQLITE_OK) {
        // A statement was leaked somewhere: close when it is finalized; the marker stays so the next
        // start checks the file.
        qCWarning(lcStorage, "closing %s: %s", qUtf8Printable(m_path), sqlite3_errstr(rc));
        sqlite3_close_v2(m_db);
        return;
    }
    if (m_ownsMarker) {
        QFile::remove(markerPath(m_path));
    }
}

StorageError Database::errorFromCode(int rc, const QString & context) const {
    const QString sqliteText = m_db ? QString::fromUtf8(sqlite3_errmsg(m_db)) : QString::fromUtf8(sqlite3_errstr(rc));
    const QString file       = describe(m_path);
    StorageError  error;
    error.sqliteCode = rc;
    switch (rc & 0xff) {
        case SQLITE_NOTADB:
            error.kind    = StorageError::Kind::NotADatabase;
            error.message = QStringLiteral("“%1” is not a V4 Chat %2 (it is not an SQLite file, or "
                                           "it is encrypted). It was left untouched.")
                                .arg(file, m_noun);
            break;
        case SQLITE_CORRUPT:
            error.kind    = StorageError::Kind::Corrupt;
            error.message = QStringLiteral("The %1 “%2” is damaged (%3). It was left untouched; "
                                           "you can move it aside and start with a fresh one.")
                                .arg(m_noun, file, sqliteText);
            break;
        case SQLITE_FULL:
            error.kind    = StorageError::Kind::DiskFull;
            error.message = QStringLiteral("The disk is full: could not save to “%1”. Free some space; nothing that "
                                           "was already saved is lost, and unsaved text is kept and saved again.")
                                .arg(file);
            break;
        case SQLITE_READONLY:
        case SQLITE_PERM:
            error.kind    = StorageError::Kind::ReadOnly;
            error.message = QStringLiteral("The %1 “%2” cannot be written (%3). Check the "
                                           "permissions of the file and its folder.")
                                .arg(m_noun, file, sqliteText);
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            error.kind    = StorageError::Kind::Busy;
            error.message = QStringLiteral("The %1 “%2” is locked by another program (%3).")
                                .arg(m_noun, file, sqliteText);
            break;
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_NOMEM:
            error.kind    = StorageError::Kind::Io;
            error.message = QStringLiteral("Could not read or write the %1 “%2” (%3).")
                                .arg(m_noun, file, sqliteText);
            break;
        default:
            error.kind    = StorageError::Kind::Sql;
            error.message = QStringLiteral("Database error in “%1” (%2).").arg(file, sqliteText);
            break;
    }
    if (!context.isEmpty()) {
        error.message = context + QStringLiteral(": ") + error.message;
    }
    return error;
}

Expected<std::unique_ptr<Database>> Database::open(const QString & path, const OpenOptions & options) {
    // SQLite would quietly open a write-protected file read-only (and a WAL file then fails later
    // with a vaguer error); say what is wrong up front. The folder must take the -wal/-shm files.
    const QFileInfo file(path);
    const QFileInfo folder(file.absolutePath());
    if ((file.exists() && !file.isWritable()) || (folder.exists() && !folder.isWritable())) {
        return StorageError{StorageError::Kind::ReadOnly, SQLITE_READONLY,
                            QStringLiteral("The %1 “%2” cannot be written: the file or its folder "
                                           "is read-only. Check their permissions.")
                                .arg(options.noun, describe(path))};
    }
    sqlite3 *  raw   = nullptr;
    const int  flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    const int  rc    = sqlite3_open_v2(QFile::encodeName(path).constData(), &raw, flags, nullptr);
    // owns `raw` even when opening failed
    std::unique_ptr<Database> db(new Database(raw, path, options.migrations, options.noun));
    if (rc != SQLITE_OK) {
        return db->errorFromCode(rc, QStringLiteral("Opening the %1").arg(options.noun));
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, options.busyTimeoutMs);

    Status status = db->configureAndMigrate(options);
    if (!status) {
        return status.error();
    }
    return db;
}

Status Database::configureAndMigrate(const OpenOptions & options) {
    // 1. Is it a readable SQLite database at all? Nothing below writes before this succeeded.
    //    (SQLite opens lazily; reading the schema is what touches the header and page 1, and it
    //    also compares the page count in the header with the file size, which catches truncation.)
    if (auto check = queryInt(QStringLiteral("SELECT count(*) FROM sqlite_schema")); !check) {
        return check.error();
    }
    if (sqlite3_db_readonly(m_db, "main") == 1) {
        return StorageError{StorageError::Kind::ReadOnly, SQLITE_READONLY,
                            QStringLiteral("The %1 “%2” is read-only. Check the permissions of the "
                                           "file and its folder.")
                                .arg(m_noun, describe(m_path))};
    }

    // 2. Refuse a file from a newer version before changing anything in it.
    auto version = queryInt(QStringLiteral("PRAGMA user_version"));
    if (!version) {
        return version.error();
    }
    m_schemaVersion = static_cast<int>(version.value());
    const int latest = latestKnownVersion();
    if (m_schemaVersion > latest) {
        return StorageError{StorageError::Kind::TooNew, 0,
                            QStringLiteral("The %1 “%2” was written by a newer version of V4 Chat "
                                           "(schema %3; this version understands up to %4). Update V4 Chat to open "
                                           "it. The file was left untouched.")
                                .arg(m_noun, describe(m_path))
                                .arg(m_schemaVersion)
                                .arg(latest)};
    }

    // 3. The marker exists while a session has the file open; if it is still there, the last one
    //    ended without closing (crash, kill, power loss): check the whole file before trusting it.
    const bool unclean = QFileInfo::exists(markerPath(m_path));
    if (unclean) {
        qCInfo(lcStorage, "%s was not closed cleanly; running integrity_check", qUtf8Printable(m_path));
        auto problems = integrityCheck();
        if (!problems) {
            return problems.error();
        }
        if (problems.value() != QStringList{QStringLiteral("ok")}) {
            return StorageError{StorageError::Kind::Corrupt, SQLITE_CORRUPT,
                                QStringLiteral("The %1 “%2” is damaged (integrity check: %3). It "
                                               "was left untouched; you can move it aside and start with a fresh one.")
                                    .arg(m_noun, describe(m_path), problems.value().mid(0, 3).join(QStringLiteral("; ")))};
        }
        m_recovered = true;
    }

    // 4. Connection settings. WAL: readers never block the writer and a commit is one append to the
    //    -wal file. synchronous=NORMAL is safe with WAL for our loss budget: a commit is in the OS
    //    cache when it returns, so a crash or kill -9 of the app loses nothing committed; only an OS
    //    crash or power cut can roll back the last commits since the last checkpoint sync, and even
    //    then the file stays consistent (never corrupt). Losing the last second of a stream on power
    //    loss is within budget; fsyncing every 250 ms flush (FULL) would cost battery and SSD wear.
    auto journal = prepare(QStringLiteral("PRAGMA journal_mode = WAL"));
    if (!journal) {
        return journal.error();
    }
    if (auto row = journal->step(); !row) {
        return row.error();
    } else if (row.value() && journal->text(0).compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0) {
        qCWarning(lcStorage, "%s: WAL not available (journal_mode=%s); using a rollback journal",
                  qUtf8Printable(m_path), qUtf8Printable(journal->text(0)));
    }
    journal = SqlStatement();
    const Status pragmas = exec(QStringLiteral("PRAGMA foreign_keys = ON;"
                                               "PRAGMA synchronous = NORMAL;"
                                               "PRAGMA journal_size_limit = 67108864;")); // keep -wal <= 64 MiB
    if (!pragmas) {
        return pragmas;
    }

    // 5. Migrations, each in its own transaction.
    const int target = options.migrateTo > 0 ? std::min(options.migrateTo, latest) : latest;
    if (const Status migrated = migrate(target); !migrated) {
        return migrated;
    }

    // 6. Now the session owns the file: write the marker (best effort: without it we only lose the
    //    extra check after a crash).
    QFile marker(markerPath(m_path));
    if (marker.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        marker.write(QByteArray::number(QCoreApplication::applicationPid()) + '\n');
        marker.close();
        m_ownsMarker = true;
    } else {
        qCWarning(lcStorage, "cannot write %s: %s", qUtf8Printable(marker.fileName()),
                  qUtf8Printable(marker.errorString()));
    }
    return {};
}

Status Database::migrate(int targetVersion) {
    for (const Migration & step : *m_migrations) {
        if (step.version <= m_schemaVersion || step.version > targetVersion) {
            continue;
        }
        const QString context = QStringLiteral("Upgrading the %1 to schema %2 (%3)")
                                    .arg(m_noun)
                                    .arg(step.version)
                                    .arg(QString::fromUtf8(step.description));
        Transaction transaction(*this);
        if (Status s = transaction.begin(); !s) {
            return s;
        }
        // Another process may have migrated between our read of user_version and BEGIN IMMEDIATE.
        auto current = queryInt(QStringLiteral("PRAGMA user_version"));
        if (!current) {
            return current.error();
        }
        if (current.value() >= step.version) {
            m_schemaVersion = static_cast<int>(current.value());
            continue; // the transaction rolls back (nothing written)
        }
        Status s = exec(QString::fromUtf8(step.sql));
        if (s) {
            s = exec(QStringLiteral("PRAGMA user_version = %1").arg(step.version));
        }
        if (s) {
            s = transaction.commit();
        }
        if (!s) {
            StorageError error = s.error();
            error.message      = context + QStringLiteral(" failed: ") + error.message;
            return error;
        }
        qCInfo(lcStorage, "%s: migrated to schema %d (%s)", qUtf8Printable(m_path), step.version, step.description);
        m_schemaVersion = step.version;
    }
    return {};
}

Expected<QString> Database::moveAside(const QString & path) {
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    QString       target = path + QStringLiteral(".corrupt-") + stamp;
    for (int n = 2; QFileInfo::exists(target) || QFileInfo::exists(target + QStringLiteral("-wal")); ++n) {
        target = path + QStringLiteral(".corrupt-") + stamp + QLatin1Char('-') + QString::number(n);
    }
    if (QFileInfo::exists(path) && !QFile::rename(path, target)) {
        return StorageError::make(StorageError::Kind::Io,
                                  QStringLiteral("Could not rename “%1” to “%2”. Check the permissions of the folder.")
                                      .arg(describe(path), describe(target)));
    }
    for (const char * suffix : {"-wal", "-shm"}) {
        const QString companion = path + QLatin1String(suffix);
        if (QFileInfo::exists(companion) && !QFile::rename(companion, target + QLatin1String(suffix))) {
            return StorageError::make(StorageError::Kind::Io,
                                      QStringLiteral("Moved the database to “%1” but could not move “%2” next to it.")
                                          .arg(describe(target), describe(companion)));
        }
    }
    QFile::remove(markerPath(path));
    qCWarning(lcStorage, "moved %s aside to %s", qUtf8Printable(path), qUtf8Printable(target));
    return target;
}

Status Database::exec(const QString & sql) {
    char *    message = nullptr;
    const int rc      = sqlite3_exec(m_db, sql.toUtf8().constData(), nullptr, nullptr, &message);
    sqlite3_free(message); // errorFromCode reads sqlite3_errmsg, which says the same
    if (rc != SQLITE_OK) {
        return errorFromCode(rc, QString());
    }
    return {};
}

Expected<SqlStatement> Database::prepare(const QString & sql) {
    sqlite3_stmt *   stmt = nullptr;
    const QByteArray utf8 = sql.toUtf8();
    const int        rc   = sqlite3_prepare_v2(m_db, utf8.constData(), static_cast<int>(utf8.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return errorFromCode(rc, QString());
    }
    return SqlStatement(this, stmt, sql);
}

Expected<qint64> Database::queryInt(const QString & sql) {
    auto stmt = prepare(sql);
    if (!stmt) {
        return stmt.error();
    }
    auto row = stmt->step();
    if (!row) {
        return row.error();
    }
    return row.value() ? stmt->int64(0) : 0;
}

Expected<QStringList> Database::integrityCheck() {
    auto stmt = prepare(QStringLiteral("PRAGMA integrity_check(20)"));
    if (!stmt) {
        return stmt.error();
    }
    QStringList lines;
    const Status rows = stmt->forEachRow([&] {
        lines << stmt->text(0);
    });
    if (!rows) {
        return rows.error();
    }
    return lines;
}

qint64 Database::lastInsertId() const {
    return sqlite3_last_insert_rowid(m_db);
}

int Database::changes() const {
    return sqlite3_changes(m_db);
}

bool Database::inTransaction() const {
    return sqlite3_get_autocommit(m_db) == 0;
}

// ---- Transaction ----------------------------------------------------------------------------

Transaction::Transaction(Database & db) : m_db(db) {}

Transaction::~Transaction() {
    // SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR): only roll back what
    // is still open.
    if (m_active && m_db.inTransaction()) {
        (void)m_db.exec(QStringLiteral("ROLLBACK"));
    }
}

Status Transaction::begin() {
    Status s = m_db.exec(QStringLiteral("BEGIN IMMEDIATE"));
    m_active = s.hasValue();
    return s;
}

Status Transaction::commit() {
    Status s = m_db.exec(QStringLiteral("COMMIT"));
    if (s) {
        m_active = false;
    }
    return s;
}

} // namespace v4app
