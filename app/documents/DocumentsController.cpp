#include "documents/DocumentsController.h"

#include "core/AppPaths.h"

#include <QDir>
#include <QFileInfo>

namespace v4app::documents {

// Runs on the controller's worker thread; owns a second DocumentStore on the same file.
class ImportWorker final : public QObject {
    Q_OBJECT

public:
    explicit ImportWorker(QString path) : m_path(std::move(path)) {}

    void run(const QList<PendingImport> & work, std::shared_ptr<const TokenCounter> counter,
             std::shared_ptr<std::atomic<bool>> cancel) {
        if (!m_store) {
            auto store = DocumentStore::open(m_path);
            if (!store) {
                for (const PendingImport & p : work) {
                    emit failed(p.conversationId, p.path, store.error().message, false);
                }
                return;
            }
            m_store = std::move(store.value());
        }
        for (const PendingImport & p : work) {
            importOne(p, *counter, *cancel);
        }
    }

signals:
    void started(qint64 conversationId, const QString & path);
    void progress(qint64 conversationId, const QString & path, qint64 done, qint64 total);
    void finished(qint64 conversationId, const QString & path, qint64 documentId, bool alreadyPresent);
    void failed(qint64 conversationId, const QString & path, const QString & message, bool cancelled);

private:
    void importOne(const PendingImport & p, const TokenCounter & counter, const std::atomic<bool> & cancel) {
        if (cancel) {
            (void) m_store->finishPendingImport(p.id);
            emit failed(p.conversationId, p.path, QStringLiteral("Import of “%1” was cancelled.").arg(p.path), true);
            return;
        }
        emit started(p.conversationId, p.path);
        auto outcome = m_store->importFile(p.path, [&](qint64 done, qint64 total) {
            emit progress(p.conversationId, p.path, done, total);
            return !cancel;
        });
        if (!outcome) {
            // A file that cannot be imported (or a cancel) is final: the queue entry goes, the
            // message tells the user what to do.
            (void) m_store->finishPendingImport(p.id);
            emit failed(p.conversationId, p.path, outcome.error().message, DocumentStore::isCancellation(outcome.error()));
            return;
        }
        if (p.conversationId > 0) {
            if (auto s = m_store->attach(p.conversationId, outcome->documentId); !s) {
                emit failed(p.conversationId, p.path, s.error().message, false); // entry kept: retried next start
                return;
            }
        }
        // Count once with the model's tokenizer, so the panel and the context budget read the cache.
        if (auto tokens = m_store->documentTokens(outcome->documentId, counter); !tokens) {
            qCWarning(lcDocuments) << "token count of" << p.path << "failed:" << tokens.error().message;
        }
        if (auto s = m_store->finishPendingImport(p.id); !s) {
            qCWarning(lcDocuments) << "import queue entry not removed (redone harmlessly next start):" << s.error().message;
        }
        emit finished(p.conversationId, p.path, outcome->documentId, outcome->alreadyPresent);
    }

    QString                        m_path;
    std::unique_ptr<DocumentStore> m_store;
};

DocumentsController::DocumentsController(QString databasePath, QObject * parent)
    : QObject(parent),
      m_path(databasePath.isEmpty() ? AppPaths::documentsDatabasePath() : std::move(databasePath)),
      m_counter(std::make_shared<ApproximateTokenCounter>()),
      m_cancel(std::make_shared<std::atomic<bool>>(false)) {
    QDir().mkpath(QFileInfo(m_path).absolutePath());
    auto store = DocumentStore::open(m_path);
    if (!store) {
        m_openError = store.error().message;
        qCWarning(lcDocuments) << "documents database not opened:" << m_openError;
        return;
    }
    m_store  = std::move(store.value());
    m_worker = new ImportWorker(m_path);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &ImportWorker::started, this, &DocumentsController::importStarted);
    connect(m_worker, &ImportWorker::progress, this, &DocumentsController::importProgress);
    auto done = [this](qint64 conversationId) {
        emit documentsChanged(conversationId);
        if (--m_running == 0) {
            emit queueFinished();
        }
    };
    connect(m_worker, &ImportWorker::finished, this,
            [this, done](qint64 conversationId, const QString & path, qint64 documentId, bool alreadyPresent) {
                emit importFinished(conversationId, path, documentId, alreadyPresent);
                done(conversationId);
            });
    connect(m_worker, &ImportWorker::failed, this,
            [this, done](qint64 conversationId, const QString & path, const QString & message, bool cancelled) {
                emit importFailed(conversationId, path, message, cancelled);
                done(conversationId);
            });
    m_thread.setObjectName(QStringLiteral("documents-import"));
    m_thread.start(QThread::LowPriority);
}

DocumentsController::~DocumentsController() {
    m_cancel->store(true); // the running import rolls back; its queue entry stays for next time
    m_thread.quit();
    m_thread.wait();
}

void DocumentsController::setTokenCounter(std::shared_ptr<const TokenCounter> counter) {
    m_counter = counter ? std::move(counter) : std::make_shared<ApproximateTokenCounter>();
}

void DocumentsController::importFiles(qint64 conversationId, const QStringList & paths) {
    if (!m_store || paths.isEmpty()) {
        return;
    }
    QStringList absolute;
    for (const QString & p : paths) {
        absolute.append(QFileInfo(p).absoluteFilePath());
    }
    auto queued = m_store->queueImports(conversationId, absolute);
    if (!queued) {
        for (const QString & p : absolute) {
            emit importFailed(conversationId, p, queued.error().message, false);
        }
        return;
    }
    startWork(queued.value());
}

int DocumentsController::resumePendingImports() {
    if (!m_store || m_running > 0) {
        return 0;
    }
    auto pending = m_store->pendingImports();
    if (!pending) {
        qCWarning(lcDocuments) << "pending imports not read:" << pending.error().message;
        return 0;
    }
    startWork(pending.value());
    return int(pending->size());
}

void DocumentsController::startWork(const QList<PendingImport> & work) {
    if (work.isEmpty()) {
        return;
    }
    m_running += int(work.size());
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, work, counter = m_counter, cancel = m_cancel] { worker->run(work, counter, cancel); },
        Qt::QueuedConnection);
}

void DocumentsController::cancelImports() {
    m_cancel->store(true);
    m_cancel = std::make_shared<std::atomic<bool>>(false); // later imports start uncancelled
}

QList<DocumentRow> DocumentsController::documents(qint64 conversationId) {
    QList<DocumentRow> rows;
    if (!m_store) {
        return rows;
    }
    auto ids = m_store->attachedDocuments(conversationId);
    if (!ids) {
        qCWarning(lcDocuments) << ids.error().message;
        return rows;
    }
    for (qint64 id : ids.value()) {
        auto info = m_store->document(id);
        if (!info) {
            continue;
        }
        auto tokens = m_store->cachedDocumentTokens(id, m_counter->fingerprint());
        rows.append({info.value(), tokens ? tokens.value() : -1});
    }
    return rows;
}

Status DocumentsController::removeDocument(qint64 conversationId, qint64 documentId) {
    if (!m_store) {
        return StorageError::make(StorageError::Kind::Io, m_openError);
    }
    if (auto s = m_store->detach(conversationId, documentId); !s) {
        return s;
    }
    auto users = m_store->db().queryInt(
        QStringLiteral("SELECT count(*) FROM conversation_documents WHERE document_id = %1").arg(documentId));
    if (!users) {
        return users.error();
    }
    Status s = users.value() == 0 ? m_store->remove(documentId) : Status();
    emit documentsChanged(conversationId);
    return s;
}

Expected<ChunkHit> DocumentsController::passage(qint64 chunkId) {
    if (!m_store) {
        return StorageError::make(StorageError::Kind::Io, m_openError);
    }
    return m_store->chunk(chunkId);
}

ContextReport DocumentsController::savedCitations(const QList<qint64> & chunkIds) {
    ContextReport report;
    report.mode = ContextReport::Mode::Retrieved;
    for (qint64 id : chunkIds) {
        auto hit = passage(id);
        if (hit) {
            report.included.append(hit.value());
        } else {
            ChunkHit gone;
            gone.chunkId      = id;
            gone.documentName = tr("a removed document");
            report.included.append(gone);
        }
    }
    return report;
}

Expected<ContextReport> DocumentsController::contextFor(qint64 conversationId, const QString & question,
                                                        const QStringList & recentTurns, int tokenBudget) {
    if (!m_store) {
        return StorageError::make(StorageError::Kind::Io, m_openError);
    }
    return DocumentContext(*m_store, *m_counter).build(conversationId, question, recentTurns, tokenBudget);
}

QString DocumentsController::summarizeRequest(qint64 documentId) {
    auto info = m_store ? m_store->document(documentId) : Expected<DocumentInfo>(StorageError{});
    const QString name = info ? info->name : QStringLiteral("the attached document");
    return QStringLiteral("Summarize the document %1: what it is, its main points and its conclusions. "
                          "Cite the passages you use as [n].")
        .arg(name);
}

} // namespace v4app::documents

#include "DocumentsController.moc"
