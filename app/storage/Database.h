// Database: an SQLite file opened in WAL mode with foreign keys on, versioned migrations (PRAGMA
// user_version) and a check after an unclean shutdown. The conversation database uses the default
// migration list (Database::migrations()); the documents database (documents.sqlite3, a separate
// file, see documents/DocumentStore.h) opens through the same class with its own list
// (OpenOptions::migrations).
//
// Why the sqlite3 C API and not QtSql's QSQLITE driver: Debian's QSQLITE links the same system
// libsqlite3 (3.40, FTS5 compiled in), so both would run the same engine, but the C API gives us the
// extended result codes (SQLITE_FULL, SQLITE_CORRUPT, SQLITE_NOTADB) without parsing strings, the
// busy timeout and checkpoints directly, and no process-wide connection registry (QSqlDatabase's
// named connections are a singleton in disguise, STYLE.md P5).
//
// A corrupt or foreign file is never overwritten or "repaired": open() returns an error value and
// the app offers moveAside(), which renames the file (with its -wal/-shm) out of the way.
//
// Thread contract: a Database is used from one thread at a time (the GUI thread in the app).
// Every SqlStatement must be destroyed before its Database.
// Other processes may open the same file; writers wait up to the busy timeout.
//
// Usage:
//     auto db = v4app::Database::open(v4app::AppPaths::databasePath());
//     if (!db) {
//         if (db.error().kind == v4app::StorageError::Kind::Corrupt) {
//             // ask the user, then:
//             auto aside = v4app::Database::moveAside(path);     // path.corrupt-20250101-120000
//             db = v4app::Database::open(path);                  // a fresh, empty database
//         }
//     }
//     auto stmt = db.value()->prepare(QStringLiteral("SELECT title FROM conversations WHERE id = ?"));
//     stmt->bind(1, id);
//     while (stmt->step().value()) { qDebug() << stmt->text(0); }
#pragma once

#include <functional>

#include "storage/StorageError.h"

#include <QLoggingCategory>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <memory>

struct sqlite3;
struct sqlite3_stmt;

Q_DECLARE_LOGGING_CATEGORY(lcStorage)

namespace v4app {

class Database;

// A prepared statement (RAII). Bind indexes start at 1, column indexes at 0, as in SQLite.
class SqlStatement final {
public:
    SqlStatement() = default;
    SqlStatement(SqlStatement && other) noexcept;
    SqlStatement & operator=(SqlStatement && other) noexcept;
    SqlStatement(const SqlStatement &)             = delete;
    SqlStatement & operator=(const SqlStatement &) = delete;
    ~SqlStatement();

    SqlStatement & bind(int index, qint64 value);
    SqlStatement & bind(int index, int value) { return bind(index, static_cast<qint64>(value)); }
    SqlStatement & bind(int index, double value);
    SqlStatement & bind(int index, const QString & value); // a null QString binds NULL
    SqlStatement & bindNull(int index);

    // true: a row is ready; false: done. Errors (including a failed bind) come back as values.
    Expected<bool> step();
    // Steps to the end, calling `onRow` for each row (read it with the column getters below);
    // the first error ends the walk and is returned.
    Status forEachRow(const std::function<void()> & onRow);
    // Steps to the end (for INSERT/UPDATE/DELETE).
    Status run();
    void   reset(); // ready to bind and step again

    bool    isNull(int column) const;
    qint64  int64(int column) const;
    double  real(int column) const;
    QString text(int column) const;

private:
    friend class Database;
    SqlStatement(Database * db, sqlite3_stmt * stmt, QString sql);

    Database *     m_db   = nullptr;
    sqlite3_stmt * m_stmt = nullptr;
    QString        m_sql; // for error messages
    int            m_bindRc = 0;
};

struct Migration {
    int          version;     // user_version after this step
    const char * description; // for logs and error messages
    const char * sql;         // applied in one transaction together with the version bump
};

struct OpenOptions {
    int busyTimeoutMs = 5000;
    // Migrate only up to this schema version (0: the latest). For tests and tools that need an
    // old-version file; the app always uses the default.
    int migrateTo = 0;
    // The ordered schema steps of this file (version i+1 is (*migrations)[i]); nullptr: the
    // conversation schema, Database::migrations(). Another store with its own file (documents)
    // passes its own list; files newer than the list's last version are refused (TooNew). The list
    // must outlive the Database.
    const QList<Migration> * migrations = nullptr;
    // What the file is, in error messages ("The <noun> “<path>” is damaged …").
    QString noun = QStringLiteral("conversation database");
};

class Database final {
    Q_DISABLE_COPY_MOVE(Database)

public:
    static Expected<std::unique_ptr<Database>> open(const QString & path, const OpenOptions & options = {});

    // Renames `path` and its -wal/-shm companions to `<path>.corrupt-<yyyyMMdd-HHmmss>` (+ -wal/-shm,
    // so the set can still be opened together for recovery) and forgets the unclean-shutdown
    // marker. Returns the new main file name. The database must not be open in this process.
    static Expected<QString> moveAside(const QString & path);

    // The ordered migration steps; version i+1 is migrations()[i]. Never edit a shipped step:
    // append a new one.
    static const QList<Migration> & migrations();
    static int                      latestVersion(); // of migrations()
    static int                      latestVersion(const QList<Migration> & steps);
    static QString                  markerPath(const QString & path); // "<path>.in-use"

    ~Database(); // clean close: lets SQLite checkpoint the WAL, then removes the marker

    QString path() const { return m_path; }
    int     schemaVersion() const { return m_schemaVersion; }
    // The last version of the migration list this file was opened with.
    int     latestKnownVersion() const { return latestVersion(*m_migrations); }
    // True when the previous session did not close cleanly (marker found) and the file passed
    // integrity_check: the caller should run ConversationStore::markInterrupted() (it always
    // should at startup anyway).
    bool recoveredFromUncleanShutdown() const { return m_recovered; }

    Status                 exec(const QString & sql); // one or more statements, no results
    Expected<SqlStatement> prepare(const QString & sql);
    Expected<qint64>       queryInt(const QString & sql); // first column of the first row
    Expected<QStringList>  integrityCheck();              // {"ok"} when healthy

    qint64 lastInsertId() const;
    int    changes() const;
    bool   inTransaction() const;

    // Turns a SQLite result code into an error value; `context` says what we were doing.
    StorageError errorFromCode(int rc, const QString & context) const;
    sqlite3 *    handle() const { return m_db; }

private:
    Database(sqlite3 * db, QString path, const QList<Migration> * migrations, QString noun);
    Status configureAndMigrate(const OpenOptions & options);
    Status migrate(int targetVersion);

    sqlite3 * m_db = nullptr;
    QString   m_path;
    const QList<Migration> * m_migrations = nullptr; // never null
    QString   m_noun;                                 // "conversation database", "documents database"
    int       m_schemaVersion = 0;
    bool      m_recovered     = false;
    bool      m_ownsMarker    = false;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless commit() succeeded. IMMEDIATE
// takes the write lock up front, so two writers never deadlock upgrading read locks.
class Transaction final {
    Q_DISABLE_COPY_MOVE(Transaction)

public:
    explicit Transaction(Database & db);
    ~Transaction();

    Status begin();
    Status commit();

private:
    Database & m_db;
    bool       m_active = false;
};

} // namespace v4app
