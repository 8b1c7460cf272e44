#include "documents/DocumentContext.h"

#include <QLocale>
#include <QRegularExpression>
#include <QSet>

namespace v4app::documents {

namespace {

constexpr int kQuestionCandidates = 64;
constexpr int kRecentCandidates   = 32;
constexpr int kRecentTurns        = 3;

QString promptBlockFor(const QList<ChunkHit> & chunks) {
    QString out;
    for (qsizetype i = 0; i < chunks.size(); ++i) {
        out += QStringLiteral("[%1] %2\n%3\n\n").arg(i + 1).arg(chunks[i].citation(), chunks[i].text.trimmed());
    }
    return out;
}

} // namespace

QList<qint64> ContextReport::chunkIds() const {
    QList<qint64> ids;
    for (const ChunkHit & c : included) {
        ids.append(c.chunkId);
    }
    return ids;
}

int ContextReport::leftOutTokens() const {
    int sum = 0;
    for (const ChunkHit & c : leftOut) {
        sum += c.tokens;
    }
    return sum;
}

QString ContextReport::summary() const {
    if (mode == Mode::NoDocuments) {
        return QStringLiteral("No documents attached");
    }
    const QLocale l;
    QString       out = QStringLiteral("%1 document%2: %3 passage%4, %5 of %6 tokens")
                      .arg(attachedDocuments)
                      .arg(attachedDocuments == 1 ? "" : "s")
                      .arg(included.size())
                      .arg(included.size() == 1 ? "" : "s")
                      .arg(l.toString(usedTokens), l.toString(budget));
    if (mode == Mode::WholeDocuments) {
        return out + QStringLiteral(" (whole documents)");
    }
    if (!leftOut.isEmpty()) {
        out += QStringLiteral(" (left out: %1 ranked passages, %2 tokens)").arg(leftOut.size()).arg(l.toString(leftOutTokens()));
    }
    return out;
}

Expected<ContextReport> DocumentContext::build(qint64 conversationId, const QString & question,
                                               const QStringList & recentTurns, int tokenBudget) {
    ContextReport report;
    report.budget  = tokenBudget;
    auto attached  = m_store.attachedDocuments(conversationId);
    if (!attached) {
        return attached.error();
    }
    report.attachedDocuments = int(attached->size());
    if (attached->isEmpty()) {
        return report;
    }

    // Whole documents when they fit (token counts are cached per tokenizer, so this is cheap after
    // the first message).
    QList<ChunkHit> all;
    int             wholeCost = 0;
    for (qint64 id : attached.value()) {
        auto chunks = m_store.chunks(id);
        if (!chunks) {
            return chunks.error();
        }
        auto tokens = m_store.documentTokens(id, m_counter);
        if (!tokens) {
            return tokens.error();
        }
        report.documentTokens += tokens.value();
        wholeCost += tokens.value() + int(chunks->size()) * kCitationOverhead;
        all += chunks.value();
    }
    if (wholeCost <= tokenBudget) {
        auto fitted = m_store.fitToBudget(std::move(all), tokenBudget, m_counter, kCitationOverhead); // all fit
        if (!fitted) {
            return fitted.error();
        }
        report.mode        = ContextReport::Mode::WholeDocuments;
        report.included    = std::move(fitted->included);
        report.usedTokens  = fitted->usedTokens;
        report.promptBlock = promptBlockFor(report.included);
        return report;
    }

    // Retrieval: the question's best chunks first, then the recent turns' best.
    const SearchOptions scope{MatchMode::AnyWord, conversationId};
    auto                ranked = m_store.search(question, kQuestionCandidates, scope);
    if (!ranked) {
        return ranked.error();
    }
    const QString recent = recentTurns.mid(std::max<qsizetype>(0, recentTurns.size() - kRecentTurns)).join(u'\n');
    if (!recent.trimmed().isEmpty()) {
        auto more = m_store.search(recent, kRecentCandidates, scope);
        if (!more) {
            return more.error();
        }
        QSet<qint64> seen;
        for (const ChunkHit & h : ranked.value()) {
            seen.insert(h.chunkId);
        }
        for (ChunkHit & h : more.value()) {
            if (!seen.contains(h.chunkId)) {
                h.rank = int(ranked->size());
                ranked->append(std::move(h));
            }
        }
    }
    auto fitted = m_store.fitToBudget(std::move(ranked.value()), tokenBudget, m_counter, kCitationOverhead);
    if (!fitted) {
        return fitted.error();
    }
    report.mode        = ContextReport::Mode::Retrieved;
    report.included    = std::move(fitted->included);
    report.leftOut     = std::move(fitted->leftOut);
    report.usedTokens  = fitted->usedTokens;
    report.promptBlock = promptBlockFor(report.included);
    return report;
}

QString citationUrl(qint64 chunkId) {
    return QStringLiteral("v4cite:%1").arg(chunkId);
}

std::optional<qint64> citedChunkId(const QUrl & url) {
    if (url.scheme() != u"v4cite") {
        return std::nullopt;
    }
    bool         ok = false;
    const qint64 id = url.path().toLongLong(&ok);
    return ok && id > 0 ? std::optional<qint64>(id) : std::nullopt;
}

QString withCitationLinks(const QString & answer, const ContextReport & report) {
    if (report.included.isEmpty()) {
        return answer;
    }
    static const QRegularExpression kMarker(QStringLiteral("\\[(\\d{1,4})\\](?!\\()"));
    QString     out;
    QList<int>  cited;
    qsizetype   last = 0;
    auto        it   = kMarker.globalMatch(answer);
    while (it.hasNext()) {
        const auto m = it.next();
        const int  n = m.captured(1).toInt();
        if (n < 1 || n > report.included.size()) {
            continue;
        }
        out += answer.mid(last, m.capturedStart() - last);
        out += QStringLiteral("[[%1]](%2)").arg(n).arg(citationUrl(report.included[n - 1].chunkId));
        last = m.capturedEnd();
        if (!cited.contains(n)) {
            cited.append(n);
        }
    }
    out += answer.mid(last);
    if (cited.isEmpty()) {
        for (int n = 1; n <= std::min<int>(3, int(report.included.size())); ++n) {
            cited.append(n);
        }
    }
    QStringList sources;
    for (int n : cited) {
        const ChunkHit & c = report.included[n - 1];
        sources.append(QStringLiteral("[[%1] %2](%3)").arg(n).arg(c.citation(), citationUrl(c.chunkId)));
    }
    return out + QStringLiteral("\n\nSources: ") + sources.join(QStringLiteral(" · "));
}

} // namespace v4app::documents
