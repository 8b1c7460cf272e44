// DocumentDb: a small RAII layer over the sqlite3 C API for documents.sqlite3.
//
// Why a second file and not tables in the conversation database: Database::open() runs
// Database::migrations(), a fixed list in app/storage that this module may not edit, and it keys
// the schema on PRAGMA user_version. Adding our tables to that file would need a second version
// counter living beside it and a second migrator racing the first one on the same user_version
// semantics. A separate file keeps one version counter per file, lets documents (hundreds of MB of
// chunks) be backed up, moved aside or deleted without touching conversations, and keeps a slow
// import's write lock off the conversation file. Cost: conversation_documents.conversation_id cannot
// be a foreign key; the app removes attachments when it purges a conversation (detachAll()).
//
// Thread contract: one thread at a time; statements die before their DocumentDb.
#pragma once

#include "storage/StorageError.h"

#include <QString>
#include <QStringList>

#include <memory>

struct sqlite3;
struct sqlite3_stmt;

namespace v4app::documents {

class DocumentDb;

class Statement final {
public:
    Statement() = default;
    Statement(Statement && other) noexcept;
    Statement & operator=(Statement && other) noexcept;
    Statement(const Statement &)             = delete;
    Statement & operator=(const Statement &) = delete;
    ~Statement();

    Statement & bind(int index, qint64 value);
    Statement & bind(int index, int value) { return bind(index, qint64(value)); }
    Statement & bind(int index, const QString & value); // null QString → NULL
    Statement & bindUtf8(int index, const char * data, qsizetype size);
    Statement & bindNull(int index);

    Expected<bool> step(); // true: a row
    Status         run();
    void           reset();

    bool    isNull(int column) const;
    qint64  int64(int column) const;
    double  real(int column) const;
    QString text(int column) const;

private:
    friend class DocumentDb;
    Statement(DocumentDb * db, sqlite3_stmt * stmt) : m_db(db), m_stmt(stmt) {}
    DocumentDb *   m_db   = nullptr;
    sqlite3_stmt * m_stmt = nullptr;
    int            m_bindRc = 0;
};

class DocumentDb final {
    Q_DISABLE_COPY_MOVE(DocumentDb)

public:
    // Opens (creating) the file, WAL, foreign keys, busy timeout; refuses non-SQLite files and files
    // whose user_version is above `latestVersion` (TooNew); never modifies a file it refuses.
    static Expected<std::unique_ptr<DocumentDb>> open(const QString & path, int latestVersion);
    ~DocumentDb();

    Status              exec(const QString & sql);
    Expected<Statement> prepare(const QString & sql);
    Expected<qint64>    queryInt(const QString & sql);
    Expected<QStringList> integrityCheck();
    qint64              lastInsertId() const;
    int                 userVersion() const { return m_userVersion; }
    QString             path() const { return m_path; }
    StorageError        error(int rc, const QString & context) const;
    sqlite3 *           handle() const { return m_db; }

private:
    DocumentDb(sqlite3 * db, QString path) : m_db(db), m_path(std::move(path)) {}
    sqlite3 * m_db = nullptr;
    QString   m_path;
    int       m_userVersion = 0;
};

// BEGIN IMMEDIATE … COMMIT, rolled back by the destructor unless committed.
class DbTransaction final {
    Q_DISABLE_COPY_MOVE(DbTransaction)

public:
    explicit DbTransaction(DocumentDb & db) : m_db(db) {}
    ~DbTransaction();
    Status begin();
    Status commit();

private:
    DocumentDb & m_db;
    bool         m_active = false;
};

} // namespace v4app::documents
