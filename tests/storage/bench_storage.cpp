// Storage benchmark (not a test): builds 1,000 conversations x 100 messages, then measures
//   - open + list: Database::open + ConversationStore + listConversations (what the app does at start)
//   - sidebar search: median / p95 / max of 50 queries (common words, rare words, prefixes, 2 words)
//   - loading the active branch of one 100-message conversation
//
//   bench_storage [db-path] [conversations] [messages-per-conversation]
// Figures are recorded in docs/notes-storage.md.
#include "storage/ConversationStore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>

using namespace v4app;

namespace {

double median(QVector<double> v) {
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : v[v.size() / 2];
}

double percentile(QVector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : v[std::min<qsizetype>(v.size() - 1, static_cast<qsizetype>(p * v.size()))];
}

} // namespace

int main(int argc, char ** argv) {
    QCoreApplication app(argc, argv);
    QTemporaryDir    tmp;
    const QString    path  = argc > 1 ? QString::fromLocal8Bit(argv[1]) : tmp.filePath(QStringLiteral("bench.sqlite3"));
    const int        nConv = argc > 2 ? std::atoi(argv[2]) : 1000;
    const int        nMsg  = argc > 3 ? std::atoi(argv[3]) : 100;

    // A vocabulary with a Zipf-like mix: a few very common words and many rare ones.
    QStringList      vocab = {QStringLiteral("the"), QStringLiteral("model"), QStringLiteral("and"),
                              QStringLiteral("python"), QStringLiteral("memory"), QStringLiteral("münchen")};
    QRandomGenerator rng(7);
    for (int i = 0; i < 20000; ++i) {
        QString w;
        const int len = 3 + static_cast<int>(rng.bounded(7));
        for (int c = 0; c < len; ++c) {
            w += QChar(u'a' + static_cast<char16_t>(rng.bounded(26)));
        }
        vocab << w;
    }
    const auto sentence = [&](int words) {
        QString s;
        for (int i = 0; i < words; ++i) {
            const double r   = rng.generateDouble();
            const int    idx = static_cast<int>(r * r * r * vocab.size()); // skewed towards the front
            s += vocab[std::min<qsizetype>(idx, vocab.size() - 1)] + QLatin1Char(' ');
        }
        return s;
    };

    if (!QFileInfo::exists(path)) {
        QElapsedTimer build;
        build.start();
        auto db = Database::open(path);
        if (!db) {
            std::fprintf(stderr, "%s\n", qPrintable(db.error().message));
            return 1;
        }
        Database & d = *db.value();
        (void)d.exec(QStringLiteral("BEGIN"));
        auto conv = d.prepare(QStringLiteral(
            "INSERT INTO conversations (title, mode, pinned, created_at, updated_at) VALUES (?1, 'fast', ?2, ?3, ?3)"));
        auto msg = d.prepare(QStringLiteral(
            "INSERT INTO messages (conversation_id, parent_id, role, content, model, backend, status, created_at, "
            "updated_at, completion_tokens, tokens_per_s) VALUES (?1, ?2, ?3, ?4, 'gemma', 'local-cpu', 'complete', ?5, ?5, 60, 35.5)"));
        auto leaf = d.prepare(QStringLiteral("UPDATE conversations SET current_leaf_id = ?1 WHERE id = ?2"));
        qint64 t = 1700000000000;
        for (int c = 0; c < nConv; ++c) {
            conv->reset();
            conv->bind(1, sentence(4)).bind(2, c % 97 == 0 ? 1 : 0).bind(3, t += 1000);
            (void)conv->run();
            const qint64 cid    = d.lastInsertId();
            qint64       parent = 0;
            for (int m = 0; m < nMsg; ++m) {
                msg->reset();
                msg->bind(1, cid);
                if (parent) {
                    msg->bind(2, parent);
                } else {
                    msg->bindNull(2);
                }
                msg->bind(3, m % 2 ? QStringLiteral("assistant") : QStringLiteral("user"));
                msg->bind(4, sentence(m % 2 ? 80 : 15)).bind(5, t += 10);
                (void)msg->run();
                parent = d.lastInsertId();
            }
            leaf->reset();
            leaf->bind(1, parent).bind(2, cid);
            (void)leaf->run();
            if (c % 100 == 99) {
                (void)d.exec(QStringLiteral("COMMIT; BEGIN"));
            }
        }
        (void)d.exec(QStringLiteral("COMMIT"));
        conv = SqlStatement();
        msg  = SqlStatement();
        leaf = SqlStatement();
        std::printf("built %d conversations x %d messages in %.1f s\n", nConv, nMsg, build.elapsed() / 1000.0);
    }
    std::printf("database: %.1f MB\n", QFileInfo(path).size() / 1e6);

    // Open + list, 5 times (the OS cache is warm after the first).
    QVector<double> openList;
    int             listed = 0;
    for (int i = 0; i < 5; ++i) {
        QElapsedTimer clock;
        clock.start();
        auto              db = Database::open(path);
        ConversationStore store(*db.value());
        (void)store.markInterrupted();
        listed = static_cast<int>(store.listConversations().value().size());
        openList << clock.nsecsElapsed() / 1e6;
    }
    std::printf("open + markInterrupted + list (%d conversations): first %.1f ms, median %.1f ms\n", listed,
                openList.first(), median(openList));

    auto              db = Database::open(path);
    ConversationStore store(*db.value());
    const QStringList queries = {
        QStringLiteral("the"),          QStringLiteral("model"),        QStringLiteral("python memory"),
        QStringLiteral("münchen"),      QStringLiteral("munch"),        QStringLiteral("mo"),
        QStringLiteral("t"),            QStringLiteral("zzzzqqq"),      QStringLiteral("the model and"),
        QStringLiteral("NEAR( \"*"),
    };
    QVector<double> times;
    int             hitsTotal = 0;
    for (int i = 0; i < 50; ++i) {
        QString q = i < queries.size() ? queries[i] : vocab[static_cast<int>(rng.bounded(static_cast<int>(vocab.size())))].left(2 + i % 4);
        QElapsedTimer clock;
        clock.start();
        auto hits = store.search(q);
        times << clock.nsecsElapsed() / 1e6;
        if (qEnvironmentVariableIsSet("V4_BENCH_VERBOSE")) {
            std::printf("  %-16s %7.2f ms\n", qPrintable(q), times.back());
        }
        if (!hits) {
            std::fprintf(stderr, "search %s: %s\n", qPrintable(q), qPrintable(hits.error().message));
            return 1;
        }
        hitsTotal += static_cast<int>(hits->size());
    }
    std::printf("search (50 queries, up to 50 conversations each, %d hits): median %.2f ms, p95 %.2f ms, max %.2f ms\n",
                hitsTotal, median(times), percentile(times, 0.95), *std::max_element(times.begin(), times.end()));

    QVector<double> branch;
    const auto      list = store.listConversations().value();
    for (int i = 0; i < 20; ++i) {
        QElapsedTimer clock;
        clock.start();
        const auto msgs = store.activeBranch(list[i * 7 % list.size()].id).value();
        branch << clock.nsecsElapsed() / 1e6;
        if (msgs.size() != nMsg) {
            std::fprintf(stderr, "branch has %lld messages\n", static_cast<long long>(msgs.size()));
        }
    }
    std::printf("activeBranch (%d messages): median %.2f ms\n", nMsg, median(branch));
    return 0;
}
