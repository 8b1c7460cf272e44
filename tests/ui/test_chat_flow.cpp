// Drives the real main window wired to a ChatController and a ConversationStore on a temporary
// database, with a scripted backend: type and send, streamed answers, stop, regenerate and page
// branches, edit and resend, modes, the sidebar (new, rename, pin, delete + undo, search), a
// restart on the same data, a full disk, a 1 MB paste, and an attached document whose passage goes
// into the prompt and comes back as a citation link that opens it.
#include <QApplication>
#include <QClipboard>
#include <QDockWidget>
#include <QFile>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QToolButton>

#include <memory>

#include "ChatView.h"
#include "ChatWiring.h"
#include "CitationPanel.h"
#include "ConversationSidebar.h"
#include "MainWindow.h"
#include "ScriptedBackend.h"
#include "Toast.h"
#include "backends/LocalBackend.h"
#include "chat/ChatController.h"
#include "documents/DocumentsController.h"
#include "storage/ConversationStore.h"
#include "storage/Database.h"

using v4app::ChatController;
using v4app::ConversationStore;
using v4app::MessageStatus;
using v4ui::MainWindow;

namespace {

// One run of the app on a data folder; destroying it and making another is a restart.
struct AppRun {
    std::unique_ptr<v4app::Database> db;
    std::unique_ptr<ConversationStore> store;
    std::unique_ptr<v4test::ScriptedBackend> backend;
    std::unique_ptr<ChatController> controller;
    std::unique_ptr<MainWindow> window;

    explicit AppRun(const QString & dbPath) {
        auto opened = v4app::Database::open(dbPath);
        if (!opened) {
            qFatal("cannot open %s: %s", qPrintable(dbPath), qPrintable(opened.error().message));
        }
        db = std::move(opened.value());
        store = std::make_unique<ConversationStore>(*db);
        (void)store->markInterrupted();
        backend = std::make_unique<v4test::ScriptedBackend>();
        controller = std::make_unique<ChatController>(backend.get(), store.get(), QStringLiteral("/models/scripted.gguf"));
        window = std::make_unique<MainWindow>();
        v4app::wireChat(*window, *controller, *store);
        window->show();
    }
    ~AppRun() {
        window.reset();
        controller.reset();
        backend.reset();
        store.reset();
        db.reset();
    }

    QPlainTextEdit * composer() const { return window->composer(); }
    v4ui::ChatView * view() const { return window->chatView(); }
    QListWidget *    list() const { return window->sidebar()->list(); }

    void type(const QString & text) {
        composer()->setFocus();
        QTest::keyClicks(composer(), text);
        QTest::keyClick(composer(), Qt::Key_Return);
    }
    bool waitIdle() {
        return QTest::qWaitFor([this] { return !controller->isAnswering(); }, 5000);
    }
    void clickAnchor(const QString & href) { emit view()->anchorClicked(QUrl(href)); }
    QStringList sidebarTitles() const {
        QStringList titles;
        for (int i = 0; i < list()->count(); ++i) {
            if (list()->item(i)->data(Qt::UserRole).toLongLong() != 0) {
                titles << list()->item(i)->text();
            }
        }
        return titles;
    }
    void clickMode(const QString & name) {
        for (QToolButton * b : window->findChildren<QToolButton *>()) {
            if (b->text() == name) {
                QTest::mouseClick(b, Qt::LeftButton);
            }
        }
    }
};

} // namespace

class TestChatFlow : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    int           m_n = 0;
    QString freshDb() { return m_dir.filePath(QStringLiteral("chat-%1.sqlite3").arg(++m_n)); }

private slots:
    void typeSendAndStreamIsSavedWithStats() {
        AppRun app(freshDb());
        app.backend->scripts = {{{}, {QStringLiteral("Paris is "), QStringLiteral("the **capital**.")}}};
        app.type(QStringLiteral("What is the capital of France?"));
        QVERIFY(app.controller->isAnswering());
        QVERIFY(app.window->isStreaming());
        QVERIFY(app.waitIdle());
        QVERIFY(!app.window->isStreaming());
        const QString shown = app.view()->toPlainText();
        QVERIFY2(shown.contains(QStringLiteral("Paris is the capital.")), qPrintable(shown));
        QVERIFY2(shown.contains(QStringLiteral("scripted-model")) && shown.contains(QStringLiteral("TTFT 42 ms")) &&
                     shown.contains(QStringLiteral("123.4 tok/s")), qPrintable(shown));

        const auto branch = app.store->activeBranch(app.controller->conversationId()).value();
        QCOMPARE(branch.size(), 2);
        QCOMPARE(branch[0].content, QStringLiteral("What is the capital of France?"));
        QCOMPARE(branch[1].content, QStringLiteral("Paris is the **capital**."));
        QCOMPARE(branch[1].status, MessageStatus::Complete);
        QCOMPARE(branch[1].stats.model, QStringLiteral("scripted-model"));
        QCOMPARE(branch[1].mode, QStringLiteral("auto"));
        QCOMPARE(branch[1].stats.ttftMs, 42.0);
        QCOMPARE(app.sidebarTitles(), QStringList{QStringLiteral("What is the capital of France?")});
        QCOMPARE(app.backend->requests.last().messages.size(), 1);
    }

    void escStopsMidAnswerAndKeepsThePartialText() {
        AppRun app(freshDb());
        app.backend->tickMs  = 30;
        app.backend->scripts = {{{}, {QStringLiteral("one "), QStringLiteral("two "), QStringLiteral("three "), QStringLiteral("four")}}};
        app.type(QStringLiteral("count"));
        QVERIFY(QTest::qWaitFor([&] { return app.view()->streamedAnswer().contains(QStringLiteral("two")); }, 3000));
        QTest::keyClick(app.window.get(), Qt::Key_Escape);
        QVERIFY(app.waitIdle());
        const auto branch = app.store->activeBranch(app.controller->conversationId()).value();
        QCOMPARE(branch.last().status, MessageStatus::Cancelled);
        QVERIFY(branch.last().content.startsWith(QStringLiteral("one two")));
        QVERIFY(!branch.last().content.contains(QStringLiteral("four")));
        QVERIFY(app.view()->toPlainText().contains(QStringLiteral("Stopped.")));
        // The stopped text is part of the next turn's history.
        app.type(QStringLiteral("go on"));
        QVERIFY(app.waitIdle());
        QCOMPARE(app.backend->requests.last().messages.size(), 3);
    }

    void regenerateKeepsTheEarlierAnswerAsABranch() {
        AppRun app(freshDb());
        app.backend->scripts = {{{}, {QStringLiteral("first answer")}}, {{}, {QStringLiteral("second answer")}}};
        app.type(QStringLiteral("question"));
        QVERIFY(app.waitIdle());
        const qint64 firstAnswer = app.controller->messages().last().id;
        app.clickAnchor(QStringLiteral("act:regen:%1").arg(firstAnswer));
        QVERIFY(app.waitIdle());
        QCOMPARE(app.backend->requests.last().messages.size(), 1); // the old answer is not history
        QString shown = app.view()->toPlainText();
        QVERIFY2(shown.contains(QStringLiteral("second answer")) && !shown.contains(QStringLiteral("first answer")), qPrintable(shown));
        QVERIFY2(shown.contains(QStringLiteral("‹ 2/2 ›")), qPrintable(shown));

        app.clickAnchor(QStringLiteral("act:prev:%1").arg(app.controller->messages().last().id));
        shown = app.view()->toPlainText();
        QVERIFY2(shown.contains(QStringLiteral("first answer")) && shown.contains(QStringLiteral("‹ 1/2 ›")), qPrintable(shown));
        QCOMPARE(app.controller->messages().last().id, firstAnswer);
    }

    void editAndResendMakesAUserBranch() {
        AppRun app(freshDb());
        app.backend->scripts = {{{}, {QStringLiteral("about cats")}}, {{}, {QStringLiteral("about dogs")}}};
        app.type(QStringLiteral("tell me about cats"));
        QVERIFY(app.waitIdle());
        const qint64 userId = app.controller->messages().first().id;
        app.clickAnchor(QStringLiteral("act:edit:%1").arg(userId));
        QCOMPARE(app.composer()->toPlainText(), QStringLiteral("tell me about cats"));
        app.composer()->clear();
        app.type(QStringLiteral("tell me about dogs"));
        QVERIFY(app.waitIdle());
        const auto & branch = app.controller->messages();
        QCOMPARE(branch.size(), 2);
        QCOMPARE(branch.first().content, QStringLiteral("tell me about dogs"));
        QCOMPARE(branch.first().siblingCount, 2);
        QCOMPARE(branch.last().content, QStringLiteral("about dogs"));
        app.clickAnchor(QStringLiteral("act:prev:%1").arg(branch.first().id));
        QCOMPARE(app.controller->messages().last().content, QStringLiteral("about cats"));
    }

    void deleteMessageRemovesItAndWhatFollows() {
        AppRun app(freshDb());
        app.type(QStringLiteral("one"));
        QVERIFY(app.waitIdle());
        app.type(QStringLiteral("two"));
        QVERIFY(app.waitIdle());
        QCOMPARE(app.controller->messages().size(), 4);
        app.clickAnchor(QStringLiteral("act:del:%1").arg(app.controller->messages().at(2).id));
        QCOMPARE(app.controller->messages().size(), 2);
        QVERIFY(!app.view()->toPlainText().contains(QStringLiteral("two")));
    }

    void expertThinkingStreamsThenFolds() {
        AppRun app(freshDb());
        app.backend->tickMs  = 20;
        app.backend->scripts = {{{QStringLiteral("Let me "), QStringLiteral("think.")}, {QStringLiteral("Answer."), QStringLiteral(" Done.")}}};
        app.clickMode(QStringLiteral("Expert"));
        QCOMPARE(app.window->mode(), MainWindow::Mode::Expert);
        app.type(QStringLiteral("hard question"));
        QVERIFY(app.backend->requests.last().thinking);
        QVERIFY(QTest::qWaitFor([&] { return app.view()->toPlainText().contains(QStringLiteral("Let me")); }, 3000));
        QVERIFY(app.view()->toPlainText().contains(QStringLiteral("Thinking…")));
        QVERIFY(QTest::qWaitFor([&] { return app.view()->toPlainText().endsWith(QStringLiteral("Let me think.")) ||
                                             !app.view()->streamedAnswer().isEmpty(); }, 3000));
        if (app.view()->streamedAnswer().isEmpty()) {
            // The streamed thinking sits in one block under the "Thinking…" line.
            const QTextBlock last = app.view()->document()->lastBlock();
            QCOMPARE(last.text(), QStringLiteral("Let me think."));
            QVERIFY(last.previous().text().contains(QStringLiteral("Thinking…")));
        }
        QVERIFY(app.waitIdle());
        const auto answer = app.controller->messages().last();
        QCOMPARE(answer.thinking, QStringLiteral("Let me think."));
        QCOMPARE(answer.mode, QStringLiteral("expert"));
        QVERIFY(!app.view()->isThinkingExpanded(answer.id)); // folded once the answer started
        QVERIFY(!app.view()->toPlainText().contains(QStringLiteral("Let me think.")));
        app.clickAnchor(QStringLiteral("act:think:%1").arg(answer.id));
        QVERIFY(app.view()->toPlainText().contains(QStringLiteral("Let me think.")));
        QCOMPARE(app.store->conversation(app.controller->conversationId())->mode, QStringLiteral("expert"));
    }

    void sidebarNewRenamePinDeleteUndoAndSearch() {
        AppRun app(freshDb());
        app.type(QStringLiteral("alpha about rivers"));
        QVERIFY(app.waitIdle());
        const qint64 alpha = app.controller->conversationId();
        QTest::keyClick(app.window.get(), Qt::Key_N, Qt::ControlModifier); // new chat
        QCOMPARE(app.controller->conversationId(), 0);
        app.backend->scripts = {{{}, {QStringLiteral("the zebra is striped")}}};
        app.type(QStringLiteral("beta"));
        QVERIFY(app.waitIdle());
        const qint64 beta = app.controller->conversationId();
        QCOMPARE(app.sidebarTitles(), (QStringList{QStringLiteral("beta"), QStringLiteral("alpha about rivers")}));

        QVERIFY(app.store->setPinned(alpha, true));
        QCOMPARE(app.sidebarTitles().first(), QStringLiteral("alpha about rivers"));
        QCOMPARE(app.list()->item(0)->text(), QStringLiteral("PINNED"));

        for (int i = 0; i < app.list()->count(); ++i) {
            if (app.list()->item(i)->data(Qt::UserRole).toLongLong() == beta) {
                app.list()->item(i)->setText(QStringLiteral("Renamed beta")); // what the inline editor commits
            }
        }
        QCOMPARE(app.store->conversation(beta)->title, QStringLiteral("Renamed beta"));

        // Selecting a conversation loads it.
        app.window->sidebar()->setCurrent(0);
        for (int i = 0; i < app.list()->count(); ++i) {
            if (app.list()->item(i)->data(Qt::UserRole).toLongLong() == alpha) {
                app.list()->setCurrentRow(i);
            }
        }
        QCOMPARE(app.controller->conversationId(), alpha);
        QVERIFY(app.view()->toPlainText().contains(QStringLiteral("alpha about rivers")));

        // Delete with undo.
        app.window->sidebar()->deleteConversation(beta);
        QVERIFY(!app.sidebarTitles().contains(QStringLiteral("Renamed beta")));
        QVERIFY(app.window->toast()->message().contains(QStringLiteral("Renamed beta")));
        auto * undo = app.window->toast()->findChild<QPushButton *>(QStringLiteral("ToastAction"));
        QVERIFY(undo && undo->isVisible());
        QCOMPARE(undo->text(), QStringLiteral("Undo"));
        QTest::mouseClick(undo, Qt::LeftButton);
        QVERIFY(app.sidebarTitles().contains(QStringLiteral("Renamed beta")));

        // Search by content (FTS5), then by title; clearing brings the list back.
        auto * search = app.window->sidebar()->searchBox();
        QTest::keyClick(app.window.get(), Qt::Key_F, Qt::ControlModifier);
        QVERIFY(search->hasFocus());
        QTest::keyClicks(search, QStringLiteral("zebr"));
        QVERIFY(QTest::qWaitFor([&] { return app.sidebarTitles().size() == 1; }, 2000));
        QVERIFY2(app.sidebarTitles().first().startsWith(QStringLiteral("Renamed beta\n")), qPrintable(app.sidebarTitles().first()));
        search->clear();
        QTest::keyClicks(search, QStringLiteral("rivers"));
        QVERIFY(QTest::qWaitFor([&] { return app.sidebarTitles().size() == 1 && app.sidebarTitles().first().startsWith(QStringLiteral("alpha")); }, 2000));
        search->clear();
        QVERIFY(QTest::qWaitFor([&] { return app.sidebarTitles().size() == 2; }, 2000));
    }

    void restartFindsEverythingAsItWas() {
        const QString path = freshDb();
        qint64 id = 0;
        QString shownBefore;
        {
            AppRun app(path);
            app.backend->scripts = {{{}, {QStringLiteral("answer one")}}, {{}, {QStringLiteral("answer two")}}};
            app.clickMode(QStringLiteral("Fast"));
            app.type(QStringLiteral("keep this"));
            QVERIFY(app.waitIdle());
            app.clickAnchor(QStringLiteral("act:regen:%1").arg(app.controller->messages().last().id));
            QVERIFY(app.waitIdle());
            id = app.controller->conversationId();
            shownBefore = app.view()->toPlainText();
        }
        AppRun app(path);
        QCOMPARE(app.sidebarTitles(), QStringList{QStringLiteral("keep this")});
        app.controller->openConversation(id); // what main() does with the remembered conversation
        QCOMPARE(app.view()->toPlainText(), shownBefore);
        QCOMPARE(app.window->mode(), MainWindow::Mode::Fast);
        QCOMPARE(app.controller->messages().last().siblingCount, 2);
    }

    void exportAndImportThroughTheSidebar() {
        AppRun app(freshDb());
        app.backend->scripts = {{{}, {QStringLiteral("| a | b |\n|---|---|\n| 1 | 2 |")}}};
        app.type(QStringLiteral("make a table"));
        QVERIFY(app.waitIdle());
        const qint64 id = app.controller->conversationId();
        QTemporaryDir dir;
        auto * sidebar = app.window->sidebar();
        QVERIFY(sidebar->exportConversation(id, dir.filePath(QStringLiteral("chat.md"))));
        QFile md(dir.filePath(QStringLiteral("chat.md")));
        QVERIFY(md.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(md.readAll());
        QVERIFY2(text.contains(QStringLiteral("make a table")) && text.contains(QStringLiteral("| 1 | 2 |")), qPrintable(text));

        const QString json = dir.filePath(QStringLiteral("chat.json"));
        QVERIFY(sidebar->exportConversation(id, json));
        QVERIFY(sidebar->importConversation(json));
        QCOMPARE(app.sidebarTitles().count(QStringLiteral("make a table")), 2);
        QVERIFY(app.controller->conversationId() != id); // the imported copy is the one shown
        QVERIFY(app.view()->toPlainText().contains(QStringLiteral("make a table")));

        // A broken file is refused with a message; nothing is added.
        QFile bad(dir.filePath(QStringLiteral("bad.json")));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{ not json");
        bad.close();
        QVERIFY(!sidebar->importConversation(bad.fileName()));
        QVERIFY(app.window->toast()->message().contains(QStringLiteral("bad.json")));
        QCOMPARE(app.sidebarTitles().size(), 2);
        // An unwritable target is reported and leaves no file.
        QVERIFY(!sidebar->exportConversation(id, dir.filePath(QStringLiteral("no/such/dir/chat.md"))));
    }

    void diskFullKeepsTheTextOnScreenAndSaysSo() {
        AppRun app(freshDb());
        app.store->setFlushInterval(0);
        const QString big(20000, QLatin1Char('x'));
        app.backend->scripts = {{{}, {QStringLiteral("kept "), big, QStringLiteral(" end")}}};
        // Cap the file at its size once the answer has begun: its next page fails with SQLITE_FULL.
        connect(app.controller.get(), &ChatController::answerStarted, this, [&app] {
            const qint64 pages = app.db->queryInt(QStringLiteral("PRAGMA page_count")).value();
            QVERIFY(app.db->exec(QStringLiteral("PRAGMA max_page_count = %1").arg(pages)));
        });
        app.type(QStringLiteral("fill the disk"));
        QVERIFY(app.waitIdle());
        QVERIFY2(app.window->toast()->message().contains(QStringLiteral("full"), Qt::CaseInsensitive),
                 qPrintable(app.window->toast()->message()));
        QVERIFY(app.view()->toPlainText().contains(QStringLiteral("kept xxxx"))); // the answer is still on screen
        QVERIFY(app.controller->messages().last().content.endsWith(QStringLiteral(" end")));

        // A message that cannot be saved goes back into the composer instead of vanishing.
        app.backend->scripts = {{{}, {QStringLiteral("never")}}};
        app.composer()->setPlainText(QStringLiteral("also too big ") + big);
        QTest::keyClick(app.composer(), Qt::Key_Return);
        QVERIFY(app.waitIdle());
        QCOMPARE(app.composer()->toPlainText(), QStringLiteral("also too big ") + big);
    }

    void aMegabytePasteIsSentWhole() {
        AppRun app(freshDb());
        QString big;
        while (big.size() < 1 << 20) {
            big += QStringLiteral("line %1 of a very long paste\n").arg(big.size());
        }
        QGuiApplication::clipboard()->setText(big);
        app.composer()->setFocus();
        QTest::keyClick(app.composer(), Qt::Key_V, Qt::ControlModifier);
        QCOMPARE(app.composer()->toPlainText(), big);
        QTest::keyClick(app.composer(), Qt::Key_Return);
        QVERIFY(app.waitIdle());
        QCOMPARE(app.controller->messages().first().content, big.trimmed());
        QCOMPARE(app.backend->requests.last().messages.first().content, big.trimmed());
    }

    void aDeletedModelFileIsExplained() {
        AppRun app(freshDb());
        v4app::LocalBackend local; // only its wiring is exercised: nothing is loaded
        v4app::wireLocalBackend(*app.window, *app.controller, local);
        app.type(QStringLiteral("hello")); // the controller names /models/scripted.gguf, which does not exist
        QVERIFY2(app.window->toast()->message().contains(QStringLiteral("is gone")), qPrintable(app.window->toast()->message()));
        QVERIFY(app.waitIdle());
    }

    void attachedDocumentIsQuotedAndCited() {
        const QString dbPath = freshDb();
        const QString docsPath = m_dir.filePath(QStringLiteral("docs-%1.sqlite3").arg(m_n));
        AppRun app(dbPath);
        v4app::documents::DocumentsController docs(docsPath);
        QVERIFY2(docs.isOpen(), qPrintable(docs.openError()));
        v4app::wireDocuments(*app.window, *app.controller, docs);
        app.type(QStringLiteral("hello"));
        QVERIFY(app.waitIdle());
        const qint64 conv = app.controller->conversationId();

        const QString path = m_dir.filePath(QStringLiteral("lighthouse.txt"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("The lighthouse keeper lit the lamp at dusk with a brass key kept under the third stair.\n");
        file.close();
        QSignalSpy imported(&docs, &v4app::documents::DocumentsController::queueFinished);
        docs.importFiles(conv, {path});
        QVERIFY(imported.wait(30000));
        QCOMPARE(docs.documents(conv).size(), 1);

        app.backend->scripts = {{{}, {QStringLiteral("Under the third stair "), QStringLiteral("[1].")}}};
        app.type(QStringLiteral("Where is the brass key kept?"));
        QVERIFY(app.waitIdle());
        const QString prompt = app.backend->requests.last().messages.last().content;
        QVERIFY2(prompt.contains(QStringLiteral("brass key kept under the third stair")) &&
                     prompt.endsWith(QStringLiteral("Where is the brass key kept?")), qPrintable(prompt));
        QString meterTip;
        for (const QProgressBar * bar : app.window->findChildren<QProgressBar *>()) {
            if (bar->accessibleName() == QStringLiteral("Context used")) meterTip = bar->toolTip();
        }
        QVERIFY2(meterTip.contains(QStringLiteral("1 document")), qPrintable(meterTip));

        // The answer as the view gets it: [1] links to the passage (v4cite:<chunk id>).
        const QString answer = app.controller->messagesForDisplay().last().content;
        const qsizetype at = answer.indexOf(QStringLiteral("(v4cite:"));
        QVERIFY2(at >= 0, qPrintable(answer));
        const QString href = answer.mid(at + 1, answer.indexOf(QLatin1Char(')'), at) - at - 1);
        QVERIFY2(app.view()->toHtml().contains(QStringLiteral("href=\"%1\"").arg(href)), qPrintable(app.view()->toHtml()));
        QVERIFY(app.window->citationDock()->isHidden());
        app.clickAnchor(href);
        QVERIFY(app.window->citationDock()->isVisible());
        QVERIFY2(app.window->citationPanel()->text()->toPlainText().contains(QStringLiteral("brass key")),
                 qPrintable(app.window->citationPanel()->text()->toPlainText()));

        // After a restart (a new store, controller and window on the same files) [1] is still that link.
        AppRun again(dbPath);
        v4app::documents::DocumentsController docsAgain(docsPath);
        v4app::wireDocuments(*again.window, *again.controller, docsAgain);
        again.controller->openConversation(conv);
        const QString reopened = again.controller->messagesForDisplay().last().content;
        QVERIFY2(reopened.contains(QStringLiteral("[[1]](%1)").arg(href)), qPrintable(reopened));
        QVERIFY2(again.view()->toHtml().contains(QStringLiteral("href=\"%1\"").arg(href)), qPrintable(again.view()->toHtml()));
        again.clickAnchor(href);
        QVERIFY(again.window->citationDock()->isVisible());
        QVERIFY2(again.window->citationPanel()->text()->toPlainText().contains(QStringLiteral("brass key")),
                 qPrintable(again.window->citationPanel()->text()->toPlainText()));
    }

    void interruptedAnswerIsMarkedOnLoad() {
        const QString path = freshDb();
        qint64 conv = 0;
        {
            auto db = v4app::Database::open(path);
            QVERIFY(db);
            ConversationStore store(*db.value());
            conv = store.createConversation(QStringLiteral("cut off")).value();
            const qint64 user = store.addUserMessage(conv, 0, QStringLiteral("q")).value();
            const qint64 ans = store.beginAssistantMessage(conv, user, {QStringLiteral("m"), QStringLiteral("b"), QStringLiteral("fast")}).value();
            QVERIFY(store.appendToStreaming(ans, QStringLiteral("half an answ"), {}));
            QVERIFY(store.flushAll()); // what was on disk when the process died
            // No finish: the row stays 'streaming', as after a kill.
        }
        AppRun app(path);
        app.controller->openConversation(conv);
        QCOMPARE(app.controller->messages().last().status, MessageStatus::Interrupted);
        const QString shown = app.view()->toPlainText();
        QVERIFY2(shown.contains(QStringLiteral("half an answ")) && shown.contains(QStringLiteral("Interrupted")), qPrintable(shown));
    }
};

QTEST_MAIN(TestChatFlow)
#include "test_chat_flow.moc"
