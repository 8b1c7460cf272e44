#include "documents/DocumentStore.h"

#include <QDateTime>
#include <QFileInfo>

#include <sqlite3.h>

namespace v4app::documents {

namespace {

// Never edit a shipped step: append one. Each runs in one transaction with its user_version bump
// (Database::migrate()).
const QList<Migration> kMigrations = {
    {1, "documents, chunks, FTS5, attachments, token-count cache", R"sql(
CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    path        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL UNIQUE,
    size        INTEGER NOT NULL,
    mime        TEXT    NOT NULL,
    encoding    TEXT    NOT NULL DEFAULT '',
    pages       INTEGER NOT NULL DEFAULT 0,
    imported_at INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('importing', 'ready'))
);
CREATE TABLE chunks (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    text        TEXT    NOT NULL,
    byte_start  INTEGER NOT NULL,
    byte_end    INTEGER NOT NULL,
    line_start  INTEGER NOT NULL,
    line_end    INTEGER NOT NULL,
    page        INTEGER, -- NULL for formats without pages
    UNIQUE (document_id, ordinal)
);
-- External content: the text is stored once, in chunks; triggers keep the index in step, including
-- on cascaded deletes.
CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', content_rowid='id',
                                           tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER chunks_au AFTER UPDATE OF text ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
-- conversation ids live in the conversation database: no foreign key across files
CREATE TABLE conversation_documents (
    conversation_id INTEGER NOT NULL,
    document_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    attached_at     INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, document_id)
) WITHOUT ROWID;
CREATE INDEX conversation_documents_by_document ON conversation_documents(document_id);
CREATE TABLE chunk_token_counts (
    tokenizer TEXT    NOT NULL, -- TokenCounter::fingerprint()
    chunk_id  INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    n_tokens  INTEGER NOT NULL,
    PRIMARY KEY (tokenizer, chunk_id)
) WITHOUT ROWID;
CREATE INDEX chunk_token_counts_by_chunk ON chunk_token_counts(chunk_id);
CREATE INDEX documents_importing ON documents(status) WHERE status = 'importing';
)sql"},
    {2, "queue of imports the app has accepted but not finished (resumed after a crash)", R"sql(
CREATE TABLE pending_imports (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL, -- 0: library only, attached to no conversation
    path            TEXT    NOT NULL,
    queued_at       INTEGER NOT NULL
);
)sql"},
};

StorageError cancelled(const QString & name) {
    StorageError e = StorageError::make(StorageError::Kind::InvalidInput,
                                        QStringLiteral("Import of “%1” was cancelled; nothing was stored.").arg(name));
    e.sqliteCode = SQLITE_INTERRUPT;
    return e;
}

} // namespace

int DocumentStore::latestVersion() {
    return Database::latestVersion(kMigrations);
}

const QList<Migration> & DocumentStore::migrations() {
    return kMigrations;
}

OpenOptions DocumentStore::openOptions() {
    OpenOptions options;
    options.migrations = &kMigrations;
    options.noun       = QStringLiteral("documents database");
    return options;
}

bool DocumentStore::isCancellation(const StorageError & error) {
    return error.kind == StorageError::Kind::InvalidInput && error.sqliteCode == SQLITE_INTERRUPT;
}

Expected<std::unique_ptr<DocumentStore>> DocumentStore::open(const QString & path) {
    // Database::open() refuses non-SQLite and newer-schema files without touching them, checks the
    // file after an unclean shutdown and runs the documents' migrations.
    auto db = Database::open(path, openOptions());
    if (!db) {
        return db.error();
    }
    std::unique_ptr<DocumentStore> store(new DocumentStore(std::move(db.value())));
    // Leftovers of an import that never committed. With one transaction per document there are none
    // (a killed transaction rolls back), but a row in this state must never be shown or searched.
    auto stale = store->m_db->queryInt(QStringLiteral("SELECT count(*) FROM documents WHERE status = 'importing'"));
    if (!stale) {
        return stale.error();
    }
    if (stale.value() > 0) {
        if (auto s = store->m_db->exec(QStringLiteral("DELETE FROM documents WHERE status = 'importing'")); !s) {
            return s.error();
        }
        store->m_removedIncomplete = int(stale.value());
        qCInfo(lcDocuments) << "removed" << stale.value() << "half-imported document(s) from" << path;
    }
    return store;
}

Expected<ImportOutcome> DocumentStore::importFile(const QString & path, const ImportProgress & progress,
                                                  const ImportOptions & options) {
    if (progress && !progress(0, 0)) {
        return cancelled(path);
    }
    // While a PDF is parsed, progress is (0, 0) once per page, so a long PDF can be cancelled.
    ImportOptions withPages = options;
    bool          stopped   = false;
    if (progress) {
        withPages.pageProgress = [&](int page, int pageCount) {
            stopped = stopped || !progress(0, 0) || (options.pageProgress && !options.pageProgress(page, pageCount));
            return !stopped;
        };
    }
    auto doc = v4app::documents::importFile(path, withPages);
    if (!doc) {
        return stopped ? cancelled(path) : doc.error();
    }
    return store(doc.value(), progress);
}

Expected<ImportOutcome> DocumentStore::store(const ImportedDocument & doc, const ImportProgress & progress) {
    const qint64 total = doc.chunks.size();
    if (progress && !progress(0, total)) {
        return cancelled(doc.name);
    }
    Transaction tx(*m_db);
    if (auto s = tx.begin(); !s) {
        return s.error();
    }
    auto existing = m_db->prepare(QStringLiteral("SELECT id, (SELECT count(*) FROM chunks WHERE document_id = documents.id) "
                                                 "FROM documents WHERE sha256 = ? AND status = 'ready'"));
    if (!existing) {
        return existing.error();
    }
    existing->bind(1, doc.sha256);
    auto found = existing->step();
    if (!found) {
        return found.error();
    }
    if (found.value()) {
        return ImportOutcome{existing->int64(0), true, int(existing->int64(1))};
    }

    auto insertDoc = m_db->prepare(QStringLiteral(
        "INSERT INTO documents(path, name, sha256, size, mime, encoding, pages, imported_at, status) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'importing')"));
    if (!insertDoc) {
        return insertDoc.error();
    }
    insertDoc->bind(1, doc.path).bind(2, doc.name).bind(3, doc.sha256).bind(4, doc.size).bind(5, doc.mime);
    insertDoc->bind(6, doc.encoding).bind(7, doc.pages).bind(8, QDateTime::currentMSecsSinceEpoch());
    if (auto s = insertDoc->run(); !s) {
        return s.error();
    }
    const qint64 documentId = m_db->lastInsertId();

    auto insertChunk = m_db->prepare(QStringLiteral(
        "INSERT INTO chunks(document_id, ordinal, text, byte_start, byte_end, line_start, line_end, page) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    if (!insertChunk) {
        return insertChunk.error();
    }
    qint64 done = 0;
    for (const Chunk & c : doc.chunks) {
        insertChunk->reset();
        insertChunk->bind(1, documentId).bind(2, c.ordinal).bind(3, c.text).bind(4, c.byteStart).bind(5, c.byteEnd);
        insertChunk->bind(6, c.lineStart).bind(7, c.lineEnd);
        if (c.page > 0) {
            insertChunk->bind(8, c.page);
        } else {
            insertChunk->bindNull(8);
        }
        if (auto s = insertChunk->run(); !s) {
            return s.error();
        }
        ++done;
        if (progress && (done % 32 == 0 || done == total) && !progress(done, total)) {
            return cancelled(doc.name); // tx rolls back
        }
    }
    auto ready = m_db->prepare(QStringLiteral("UPDATE documents SET status = 'ready' WHERE id = ?"));
    if (!ready) {
        return ready.error();
    }
    if (auto s = ready->bind(1, documentId).run(); !s) {
        return s.error();
    }
    if (auto s = tx.commit(); !s) {
        return s.error();
    }
    return ImportOutcome{documentId, false, int(total)};
}

Status DocumentStore::remove(qint64 documentId) {
    auto stmt = m_db->prepare(QStringLiteral("DELETE FROM documents WHERE id = ?"));
    if (!stmt) {
        return stmt.error();
    }
    return stmt->bind(1, documentId).run();
}

namespace {
const char * kDocumentColumns =
    "SELECT id, path, name, sha256, size, mime, encoding, pages, imported_at, "
    "(SELECT count(*) FROM chunks WHERE document_id = documents.id) FROM documents ";

DocumentInfo readDocument(const SqlStatement & s) {
    DocumentInfo d;
    d.id         = s.int64(0);
    d.path       = s.text(1);
    d.name       = s.text(2);
    d.sha256     = s.text(3);
    d.size       = s.int64(4);
    d.mime       = s.text(5);
    d.encoding   = s.text(6);
    d.pages      = int(s.int64(7));
    d.importedAt = s.int64(8);
    d.chunkCount = int(s.int64(9));
    d.onDisk     = QFileInfo::exists(d.path); // the chunks stay usable; the panel says the original is gone
    return d;
}
} // namespace

Expected<QList<DocumentInfo>> DocumentStore::documents() {
    auto stmt = m_db->prepare(QString::fromUtf8(kDocumentColumns) +
                              QStringLiteral("WHERE status = 'ready' ORDER BY imported_at DESC, id DESC"));
    if (!stmt) {
        return stmt.error();
    }
    QList<DocumentInfo> out;
    const Status rows = stmt->forEachRow([&] {
        out.append(readDocument(stmt.value()));
    });
    if (!rows) {
        return rows.error();
    }
    return out;
}

Expected<DocumentInfo> DocumentStore::document(qint64 documentId) {
    auto stmt = m_db->prepare(QString::fromUtf8(kDocumentColumns) + QStringLiteral("WHERE id = ? AND status = 'ready'"));
    if (!stmt) {
        return stmt.error();
    }
    auto row = stmt->bind(1, documentId).step();
    if (!row) {
        return row.error();
    }
    if (!row.value()) {
        return StorageError::make(StorageError::Kind::NotFound, QStringLiteral("No document with id %1.").arg(documentId));
    }
    return readDocument(stmt.value());
}

Status DocumentStore::attach(qint64 conversationId, qint64 documentId) {
    auto stmt = m_db->prepare(QStringLiteral("INSERT OR IGNORE INTO conversation_documents(conversation_id, document_id, "
                                             "attached_at) SELECT ?, id, ? FROM documents WHERE id = ? AND status = 'ready'"));
    if (!stmt) {
        return stmt.error();
    }
    if (auto s = stmt->bind(1, conversationId).bind(2, QDateTime::currentMSecsSinceEpoch()).bind(3, documentId).run(); !s) {
        return s;
    }
    auto exists = document(documentId);
    return exists ? Status() : Status(exists.error());
}

Status DocumentStore::detach(qint64 conversationId, qint64 documentId) {
    auto stmt = m_db->prepare(QStringLiteral("DELETE FROM conversation_documents WHERE conversation_id = ? AND document_id = ?"));
    if (!stmt) {
        return stmt.error();
    }
    return stmt->bind(1, conversationId).bind(2, documentId).run();
}

Status DocumentStore::detachAll(qint64 conversationId) {
    auto stmt = m_db->prepare(QStringLiteral("DELETE FROM conversation_documents WHERE conversation_id = ?"));
    if (!stmt) {
        return stmt.error();
    }
    return stmt->bind(1, conversationId).run();
}

Expected<QList<qint64>> DocumentStore::attachedDocuments(qint64 conversationId) {
    auto stmt = m_db->prepare(QStringLiteral("SELECT document_id FROM conversation_documents WHERE conversation_id = ? "
                                             "ORDER BY attached_at, document_id"));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, conversationId);
    QList<qint64> ids;
    const Status rows = stmt->forEachRow([&] {
        ids.append(stmt->int64(0));
    });
    if (!rows) {
        return rows.error();
    }
    return ids;
}

Expected<QList<PendingImport>> DocumentStore::queueImports(qint64 conversationId, const QStringList & paths) {
    Transaction tx(*m_db);
    if (auto s = tx.begin(); !s) {
        return s.error();
    }
    auto insert = m_db->prepare(QStringLiteral("INSERT INTO pending_imports(conversation_id, path, queued_at) VALUES (?, ?, ?)"));
    if (!insert) {
        return insert.error();
    }
    QList<PendingImport> queued;
    for (const QString & path : paths) {
        insert->reset();
        if (auto s = insert->bind(1, conversationId).bind(2, path).bind(3, QDateTime::currentMSecsSinceEpoch()).run(); !s) {
            return s.error();
        }
        queued.append({m_db->lastInsertId(), conversationId, path});
    }
    if (auto s = tx.commit(); !s) {
        return s.error();
    }
    return queued;
}

Expected<QList<PendingImport>> DocumentStore::pendingImports() {
    auto stmt = m_db->prepare(QStringLiteral("SELECT id, conversation_id, path FROM pending_imports ORDER BY id"));
    if (!stmt) {
        return stmt.error();
    }
    QList<PendingImport> out;
    const Status         rows = stmt->forEachRow([&] {
        out.append({stmt->int64(0), stmt->int64(1), stmt->text(2)});
    });
    if (!rows) {
        return rows.error();
    }
    return out;
}

Status DocumentStore::finishPendingImport(qint64 pendingId) {
    auto stmt = m_db->prepare(QStringLiteral("DELETE FROM pending_imports WHERE id = ?"));
    if (!stmt) {
        return stmt.error();
    }
    return stmt->bind(1, pendingId).run();
}

Expected<int> DocumentStore::cachedDocumentTokens(qint64 documentId, const QString & fingerprint) {
    auto stmt = m_db->prepare(QStringLiteral(
        "SELECT count(t.n_tokens), coalesce(sum(t.n_tokens), 0), count(*) FROM chunks c "
        "LEFT JOIN chunk_token_counts t ON t.chunk_id = c.id AND t.tokenizer = ? WHERE c.document_id = ?"));
    if (!stmt) {
        return stmt.error();
    }
    auto row = stmt->bind(1, fingerprint).bind(2, documentId).step();
    if (!row) {
        return row.error();
    }
    return stmt->int64(0) == stmt->int64(2) ? int(stmt->int64(1)) : -1;
}

} // namespace v4app::documents
