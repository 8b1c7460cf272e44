// Desktop benchmark (not a test), on a database made by bench_storage (1,000 conversations x 100
// messages): what the window costs on top of storage.
//   - start: open the database, build the window, wire it, show it, restore a 100-message conversation
//   - sidebar search: the time from a query in the search box to the filled list (debounce excluded),
//     median / p95 / max over common words, rare words, prefixes and two-word queries
//   bench_desktop DB-PATH      (QT_QPA_PLATFORM=offscreen works)
// Figures are recorded in docs/PERFORMANCE.md.
#include <QApplication>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QListWidget>
#include <QTest>

#include <algorithm>
#include <cstdio>

#include "ChatView.h"
#include "ChatWiring.h"
#include "ConversationSidebar.h"
#include "DatabaseStartup.h"
#include "MainWindow.h"
#include "backends/LocalBackend.h"
#include "chat/ChatController.h"
#include "storage/ConversationStore.h"

using namespace v4app;

int main(int argc, char ** argv) {
    QApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_desktop DB-PATH (make one with bench_storage DB-PATH 1000 100)\n");
        return 2;
    }
    QElapsedTimer clock;
    clock.start();
    auto db = openConversationDatabase(QString::fromLocal8Bit(argv[1]), {
        [](const StorageError &) { return DamagedDatabaseChoice::Quit; },
        [](const QString & title, const QString & text) { std::fprintf(stderr, "%s: %s\n", qPrintable(title), qPrintable(text)); }});
    if (!db) {
        return 1;
    }
    ConversationStore store(*db);
    (void)store.markInterrupted();
    const double opened = clock.nsecsElapsed() / 1e6;
    LocalBackend     backend;
    ChatController   controller(&backend, &store, QStringLiteral("none.gguf"));
    v4ui::MainWindow window;
    wireChat(window, controller, store);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window)) {
        return 1;
    }
    const double shown = clock.nsecsElapsed() / 1e6;
    const qint64 last  = store.listConversations()->first().id;
    controller.openConversation(last);
    const double restored = clock.nsecsElapsed() / 1e6;
    std::printf("start: database open %.1f ms, window shown with %d sidebar rows %.1f ms, "
                "%d-message conversation restored %.1f ms\n",
                opened, window.sidebar()->list()->count(), shown, static_cast<int>(controller.messages().size()), restored);

    const QStringList queries = {QStringLiteral("the"), QStringLiteral("model"), QStringLiteral("python"),
                                 QStringLiteral("münchen"), QStringLiteral("mem"), QStringLiteral("py"),
                                 QStringLiteral("the model"), QStringLiteral("python memory"), QStringLiteral("zzzzqq"),
                                 QStringLiteral("a")};
    QVector<double> ms;
    for (int round = 0; round < 5; ++round) {
        for (const QString & q : queries) {
            window.sidebar()->searchBox()->setText(q); // starts the debounce timer, which we skip:
            QElapsedTimer t;
            t.start();
            window.sidebar()->refresh();
            ms << t.nsecsElapsed() / 1e6;
        }
    }
    std::sort(ms.begin(), ms.end());
    std::printf("sidebar search (%d queries, list filled): median %.2f ms, p95 %.2f ms, max %.2f ms\n",
                static_cast<int>(ms.size()), ms[ms.size() / 2], ms[static_cast<int>(ms.size() * 0.95)], ms.last());
    return 0;
}
