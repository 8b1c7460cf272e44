// DocumentStore: imported documents, their chunks, an FTS5 index over the chunk text, which
// conversation uses which document, and a per-tokenizer cache of chunk token counts. Lives in its
// own SQLite file (documents.sqlite3), opened through storage/Database with the documents' own
// migration list (DocumentStore::migrations(), keyed on that file's PRAGMA user_version).
//
// Why a second file and not tables in the conversation database: one version counter per file (the
// conversation schema and the documents schema evolve independently), documents (hundreds of MB of
// chunks) can be backed up, moved aside or deleted without touching conversations, and a slow
// import's write lock stays off the conversation file. Cost: conversation_documents.conversation_id
// cannot be a foreign key; the app removes attachments when it purges a conversation (detachAll()).
//
// Import is one transaction per document: the row is written with status 'importing', the chunks
// follow, the status becomes 'ready' and the transaction commits. A kill -9 at any point leaves
// either the whole document or nothing (WAL rollback); readers only ever see status = 'ready', and
// open() deletes any 'importing' rows left over (there are none unless a future importer commits in
// pieces). The same bytes imported twice (sha256) are stored once.
//
// Thread contract: one thread at a time (import on a worker that owns its own DocumentStore on the
// same file is fine: SQLite WAL lets the GUI's store read while a worker writes).
//
// Usage:
//     auto store = DocumentStore::open(dataDir + "/documents.sqlite3");
//     auto id = store.value()->importFile(path, [&](qint64 done, qint64 total) { return !cancelled; });
//     store.value()->attach(conversationId, id->documentId);
//     auto ctx = store.value()->assembleContext(question, 4000, counter, {.conversationId = conversationId});
//     for (const auto & c : ctx->included) prompt += c.citation() + "\n" + c.text + "\n\n";
#pragma once

#include "documents/DocumentImporter.h"
#include "storage/Database.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace v4app::documents {

struct DocumentInfo {
    qint64  id = 0;
    QString path;
    QString name;
    QString sha256;
    qint64  size = 0;
    QString mime;
    QString encoding;
    int     pages      = 0;
    qint64  importedAt = 0; // ms since the epoch, UTC
    int     chunkCount = 0;
    bool    onDisk     = true; // false when the original file was moved or deleted after import
};

// An import the app accepted (file dropped, dialog confirmed) and has not finished. Queued before
// the work starts and removed after the document is stored and attached, so a crash or kill -9
// mid-import leaves the entry, and the next start resumes it (the store's dedupe makes a redo of a
// finished document a no-op).
struct PendingImport {
    qint64  id             = 0;
    qint64  conversationId = 0; // 0: library only
    QString path;
};

struct ImportOutcome {
    qint64 documentId     = 0;
    bool   alreadyPresent = false; // same sha256 was stored before: nothing written
    int    chunkCount     = 0;
};

// done/total in chunks (0/0 while the file is read and parsed, once per page for PDFs). Return false to cancel: the
// transaction is rolled back and importFile() returns an error with isCancellation() true.
using ImportProgress = std::function<bool(qint64 done, qint64 total)>;

struct ChunkHit {
    qint64  chunkId    = 0;
    qint64  documentId = 0;
    QString documentName;
    int     ordinal   = 0;
    int     page      = 0; // 0: no pages
    int     lineStart = 0;
    int     lineEnd   = 0;
    qint64  byteStart = 0;
    qint64  byteEnd   = 0;
    double  score     = 0; // FTS5 bm25(): lower (more negative) is better
    int     rank      = 0; // 0-based position in the ranking
    int     tokens    = 0; // filled by assembleContext()
    QString text;

    // "guide.pdf, p. 3, lines 10–24" or "notes.md, lines 1–40"
    QString citation() const;
};

enum class MatchMode {
    AllWords, // every word must appear in the chunk (search box)
    AnyWord,  // any word; BM25 ranks chunks with more and rarer words first (retrieval)
};

struct SearchOptions {
    MatchMode mode           = MatchMode::AllWords;
    qint64    conversationId = 0; // > 0: only documents attached to this conversation
};

// Counts tokens for a tokenizer; fingerprint() identifies the tokenizer (e.g. model file hash +
// vocab size) so cached counts are never reused across tokenizers.
class TokenCounter {
public:
    virtual ~TokenCounter()                        = default;
    virtual QString fingerprint() const            = 0;
    virtual int     count(const QString & text) const = 0;
};

// ~4 bytes per token: a fallback when no tokenizer is loaded.
class ApproximateTokenCounter final : public TokenCounter {
public:
    QString fingerprint() const override { return QStringLiteral("approx-utf8-bytes/4"); }
    int     count(const QString & text) const override;
};

struct ContextOptions {
    qint64    conversationId    = 0;  // > 0: only attached documents
    int       candidateLimit    = 64; // ranked chunks considered
    int       perChunkOverhead  = 16; // tokens for the citation line and separators
    MatchMode mode              = MatchMode::AnyWord;
};

struct ContextAssembly {
    QList<ChunkHit> included; // in rank order; their tokens (+ overhead) fit the budget
    QList<ChunkHit> leftOut;  // ranked candidates that did not fit, in rank order
    int             usedTokens = 0;
    int             budget     = 0;
};

class DocumentStore final {
    Q_DISABLE_COPY_MOVE(DocumentStore)

public:
    static Expected<std::unique_ptr<DocumentStore>> open(const QString & path);
    static int  latestVersion();
    // The documents schema, in order (never edit a shipped step: append one).
    static const QList<Migration> & migrations();
    // What open() passes to Database::open(): the documents' migrations and wording.
    static OpenOptions openOptions();
    static bool isCancellation(const StorageError & error);

    Expected<ImportOutcome> importFile(const QString & path, const ImportProgress & progress = {},
                                       const ImportOptions & options = {});
    Expected<ImportOutcome> store(const ImportedDocument & doc, const ImportProgress & progress = {});
    Status                  remove(qint64 documentId);

    Expected<QList<DocumentInfo>> documents(); // ready documents, newest first
    Expected<DocumentInfo>        document(qint64 documentId);
    Expected<QList<ChunkHit>>     chunks(qint64 documentId);
    Expected<ChunkHit>            chunk(qint64 chunkId); // one passage, for a citation

    Expected<QList<PendingImport>> queueImports(qint64 conversationId, const QStringList & paths);
    Expected<QList<PendingImport>> pendingImports(); // oldest first
    Status                         finishPendingImport(qint64 pendingId);

    Status                      attach(qint64 conversationId, qint64 documentId);
    Status                      detach(qint64 conversationId, qint64 documentId);
    Status                      detachAll(qint64 conversationId);
    Expected<QList<qint64>>     attachedDocuments(qint64 conversationId);

    // BM25-ranked chunks. User text is never FTS5 syntax: each word is quoted.
    Expected<QList<ChunkHit>> search(const QString & query, int limit, const SearchOptions & options = {});
    // Best chunks for `query` that fit in `tokenBudget`, counted with `counter` (cached per tokenizer).
    Expected<ContextAssembly> assembleContext(const QString & query, int tokenBudget, const TokenCounter & counter,
                                              const ContextOptions & options = {});
    Expected<int> tokenCount(const ChunkHit & chunk, const TokenCounter & counter);
    // Tokens of a whole document from the cache alone; -1 until every chunk has been counted.
    Expected<int> cachedDocumentTokens(qint64 documentId, const QString & fingerprint);
    // Tokens of a whole document for this tokenizer: counted once, then read from the cache.
    Expected<int> documentTokens(qint64 documentId, const TokenCounter & counter);
    // Greedy fill of `ranked` (best first) into `tokenBudget`, each chunk costing its tokens plus
    // `perChunkOverhead`. assembleContext() is search() + fitToBudget().
    Expected<ContextAssembly> fitToBudget(QList<ChunkHit> ranked, int tokenBudget, const TokenCounter & counter,
                                          int perChunkOverhead);

    // The FTS5 MATCH expression for user text ("" when it has no word). Public for tests.
    static QString ftsQuery(const QString & userText, MatchMode mode);

    Database & db() { return *m_db; }
    int          removedIncompleteImports() const { return m_removedIncomplete; }

private:
    explicit DocumentStore(std::unique_ptr<Database> db) : m_db(std::move(db)) {}
    // Sets ChunkHit::tokens from the cache, counting (and caching) the missing ones.
    Status fillTokenCounts(QList<ChunkHit> & chunks, const TokenCounter & counter);

    std::unique_ptr<Database> m_db;
    int                         m_removedIncomplete = 0;
};

} // namespace v4app::documents
