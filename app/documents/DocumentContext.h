// DocumentContext: which passages of a conversation's attached documents go into the prompt for
// one message, and a report of what is in and what was left out (the context meter shows it).
//
//  * Whole documents: when every chunk of every attached document (plus the citation line each)
//    fits the budget, all of them go in, in document order. This is the long-context path: a model
//    with a big enough window sees the documents entire, not excerpts.
//  * Retrieved: otherwise the chunks BM25 ranks best for the question, then those ranked best for
//    the recent turns of the conversation (so "and the second clause?" still finds the contract it
//    follows up on), fill the budget greedily (DocumentStore::fitToBudget).
// Passages are numbered [1], [2], ... in the prompt block; chunkIds()[n - 1] is the chunk behind
// [n], which the chat view turns into a v4cite:<chunk id> link.
//
// Thread contract: like the DocumentStore it reads (one thread at a time).
#pragma once

#include "documents/DocumentStore.h"

#include <QStringList>
#include <QUrl>

#include <optional>

namespace v4app::documents {

struct ContextReport {
    enum class Mode { NoDocuments, WholeDocuments, Retrieved };
    Mode            mode              = Mode::NoDocuments;
    int             budget            = 0;
    int             usedTokens        = 0; // included passages + their citation lines
    int             attachedDocuments = 0;
    int             documentTokens    = 0; // all attached documents, this tokenizer
    QList<ChunkHit> included;              // prompt order; [n] is included[n - 1]
    QList<ChunkHit> leftOut;               // ranked candidates that did not fit
    QString         promptBlock;           // what goes before the question; empty when nothing is included

    QList<qint64> chunkIds() const;
    int           leftOutTokens() const;
    // "3 documents: 12 passages, 3,400 of 6,000 tokens (left out: 40 passages, 21,000 tokens)"
    QString summary() const;
};

class DocumentContext final {
public:
    static constexpr int kCitationOverhead = 16; // tokens for "[n] name, p. 3, lines 10–24" and separators

    DocumentContext(DocumentStore & store, const TokenCounter & counter) : m_store(store), m_counter(counter) {}

    Expected<ContextReport> build(qint64 conversationId, const QString & question, const QStringList & recentTurns,
                                  int tokenBudget);

private:
    DocumentStore &      m_store;
    const TokenCounter & m_counter;
};

// Citation links in answers: v4cite:<chunk id>.
QString               citationUrl(qint64 chunkId);
std::optional<qint64> citedChunkId(const QUrl & url);
// The answer (Markdown) with each [n] that names an included passage turned into a link to it, and
// a "Sources" line naming the passages cited (or, when the answer cites none, the best three that
// were given to the model: retrieval decided them).
QString withCitationLinks(const QString & answer, const ContextReport & report);

} // namespace v4app::documents
