// DocumentsController: the app's documents, for the UI. Owns the DocumentStore at
// AppPaths::documentsDatabasePath() (reads on the GUI thread) and a worker thread that imports
// files into its own DocumentStore on the same file (SQLite WAL: reads go on during an import).
//
// Imports are queued in the database first (DocumentStore::queueImports), then imported one file
// at a time: parse, store (one transaction), attach to the conversation, count tokens with the
// model's tokenizer (cached for the panel and the context budget), remove the queue entry. A crash
// or kill -9 leaves the entry; resumePendingImports() at start-up finishes the work (a document
// whose commit landed before the kill is found by its SHA-256 and only attached).
//
// Thread contract: create and call on the GUI thread; signals arrive there (queued).
//
// Usage:
//     DocumentsController docs;                       // opens the database (see openError())
//     connect(&docs, &DocumentsController::importProgress, bar, ...);
//     docs.importFiles(conversationId, {"/home/me/contract.pdf"});
//     auto report = docs.contextFor(conversationId, question, recentTurns, 6000);
#pragma once

#include "documents/DocumentContext.h"
#include "documents/DocumentStore.h"

#include <QObject>
#include <QThread>

#include <atomic>
#include <memory>

namespace v4app::documents {

class ImportWorker;

struct DocumentRow {
    DocumentInfo info;
    int          tokens = -1; // for the current tokenizer; -1 while not yet counted
};

class DocumentsController final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DocumentsController)

public:
    // `databasePath` empty: AppPaths::documentsDatabasePath().
    explicit DocumentsController(QString databasePath = {}, QObject * parent = nullptr);
    ~DocumentsController() override;

    bool    isOpen() const { return m_store != nullptr; }
    QString openError() const { return m_openError; }
    DocumentStore * store() { return m_store.get(); }

    // The tokenizer budgets and the panel use (the loaded model's); approximate until one is set.
    void setTokenCounter(std::shared_ptr<const TokenCounter> counter);
    const TokenCounter & tokenCounter() const { return *m_counter; }

    // Queues the files (durably) and starts importing; each one is attached to the conversation.
    void importFiles(qint64 conversationId, const QStringList & paths);
    // Imports left over from a crash or kill -9; returns how many were queued again.
    int  resumePendingImports();
    void cancelImports(); // the running file rolls back; the rest of the queue is dropped
    bool isImporting() const { return m_running > 0; }

    QList<DocumentRow>      documents(qint64 conversationId);
    // Detaches the document; deletes it (chunks, index, caches) when no conversation uses it any more.
    Status                  removeDocument(qint64 conversationId, qint64 documentId);
    Expected<ChunkHit>      passage(qint64 chunkId);
    // The passages behind a saved answer's [n] (chunkIds[n - 1]), for its citation links after a
    // restart; a passage whose document was removed keeps its link (the panel then says so).
    ContextReport           savedCitations(const QList<qint64> & chunkIds);
    Expected<ContextReport> contextFor(qint64 conversationId, const QString & question,
                                       const QStringList & recentTurns, int tokenBudget);
    // The user message behind "Summarize document".
    QString summarizeRequest(qint64 documentId);

signals:
    void importStarted(qint64 conversationId, const QString & path);
    void importProgress(qint64 conversationId, const QString & path, qint64 done, qint64 total);
    void importFinished(qint64 conversationId, const QString & path, qint64 documentId, bool alreadyPresent);
    void importFailed(qint64 conversationId, const QString & path, const QString & message, bool cancelled);
    void queueFinished(); // nothing left to import
    void documentsChanged(qint64 conversationId);

private:
    void startWork(const QList<PendingImport> & work);

    QString                             m_path;
    QString                             m_openError;
    std::unique_ptr<DocumentStore>      m_store;
    std::shared_ptr<const TokenCounter> m_counter;
    std::shared_ptr<std::atomic<bool>>  m_cancel;
    QThread                             m_thread;
    ImportWorker *                      m_worker  = nullptr; // lives on m_thread
    int                                 m_running = 0;       // files queued to the worker, not yet reported
};

} // namespace v4app::documents
