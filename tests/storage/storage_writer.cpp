// Helper for the kill -9 test: streams a deterministic answer ("t0 t1 t2 ...") into a conversation
// database through ConversationStore, exactly as the app does, until it is killed.
//
//   storage_writer <db> <flush-interval-ms> <token-interval-ms>
//
// stdout (one line each, flushed at once so the test sees them even after SIGKILL):
//   ready <conversation-id> <message-id>
//   appended <n> <ms>   token n (0-based) was handed to appendToStreaming at <ms> since the start
//   flushed <count> <ms> a flush committed <count> tokens
#include "storage/ConversationStore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <cstdio>

int main(int argc, char ** argv) {
    QCoreApplication app(argc, argv);
    if (argc != 4) {
        std::fprintf(stderr, "usage: storage_writer <db> <flush-interval-ms> <token-interval-ms>\n");
        return 2;
    }
    auto db = v4app::Database::open(QString::fromLocal8Bit(argv[1]));
    if (!db) {
        std::fprintf(stderr, "error: %s\n", qPrintable(db.error().message));
        return 1;
    }
    v4app::ConversationStore store(*db.value());
    store.setFlushInterval(std::atoi(argv[2]));
    (void)store.markInterrupted();

    const qint64 conv = store.createConversation(QStringLiteral("kill test"), QStringLiteral("fast")).value();
    const qint64 user = store.addUserMessage(conv, 0, QStringLiteral("Tell me a very long story.")).value();
    const qint64 ans  = store.beginAssistantMessage(conv, user, {QStringLiteral("m"), QStringLiteral("local-cpu"), {}}).value();
    std::printf("ready %lld %lld\n", static_cast<long long>(conv), static_cast<long long>(ans));
    std::fflush(stdout);

    QElapsedTimer clock;
    clock.start();
    int  appended    = 0;
    int  lastFlushes = store.flushCount();
    QObject::connect(&store, &v4app::ConversationStore::messageChanged, [&](qint64, qint64 id) {
        if (id == ans && store.flushCount() != lastFlushes) {
            lastFlushes = store.flushCount();
            std::printf("flushed %d %lld\n", appended, static_cast<long long>(clock.elapsed()));
            std::fflush(stdout);
        }
    });
    QTimer tokens;
    tokens.setTimerType(Qt::PreciseTimer);
    QObject::connect(&tokens, &QTimer::timeout, [&] {
        const int n = appended++;
        std::printf("appended %d %lld\n", n, static_cast<long long>(clock.elapsed()));
        std::fflush(stdout);
        (void)store.appendToStreaming(ans, QStringLiteral("t%1 ").arg(n), n < 10 ? QStringLiteral("h%1 ").arg(n) : QString());
    });
    tokens.start(std::atoi(argv[3]));
    return app.exec();
}
