// The main window on the real engine: type a message into the composer, press Enter and get a
// streamed reply from the default model, saved with its stats; then stop a second answer mid-way.
// Skips with a message when the default model is absent.
#include <QFileInfo>
#include <QPlainTextEdit>
#include <QTemporaryDir>
#include <QTest>

#include "ChatView.h"
#include "ChatWiring.h"
#include "MainWindow.h"
#include "backends/LocalBackend.h"
#include "chat/ChatController.h"
#include "storage/ConversationStore.h"
#include "test_paths.h"

class TestChatRealModel : public QObject {
    Q_OBJECT

private slots:
    void typeAMessageAndGetAStreamedReply() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        QTemporaryDir dir;
        auto          db = v4app::Database::open(dir.filePath(QStringLiteral("chat.sqlite3")));
        QVERIFY(db);
        v4app::ConversationStore store(*db.value());
        v4app::LocalBackend      backend({.contextSize = 1024, .threads = 0});
        v4app::ChatController    controller(&backend, &store, model);
        controller.setMaxTokens(24);
        v4ui::MainWindow window;
        v4app::wireChat(window, controller, store);
        v4app::wireLocalBackend(window, controller, backend);
        window.show();

        int pieces = 0;
        connect(&controller, &v4app::ChatController::answerReceived, this, [&pieces] { ++pieces; });
        window.composer()->setFocus();
        QTest::keyClicks(window.composer(), QStringLiteral("The capital of France is"));
        QTest::keyClick(window.composer(), Qt::Key_Return);
        QVERIFY(window.isStreaming());
        QVERIFY(QTest::qWaitFor([&] { return !controller.isAnswering(); }, 180000));
        const auto answer = controller.messages().last();
        QCOMPARE(answer.status, v4app::MessageStatus::Complete);
        QVERIFY(!answer.content.trimmed().isEmpty());
        QVERIFY(pieces >= 1);
        QCOMPARE(answer.stats.model, QFileInfo(model).fileName());
        QVERIFY(answer.stats.completionTokens > 0 && answer.stats.tokensPerSecond > 0 && answer.stats.ttftMs > 0);
        QVERIFY(window.chatView()->toPlainText().contains(answer.content.trimmed().left(20)));
        qInfo("reply in %d pieces: %s", pieces, qPrintable(answer.content.trimmed()));

        // Stop the next one as soon as it starts streaming.
        controller.setMaxTokens(400);
        QTest::keyClicks(window.composer(), QStringLiteral("Tell me a long story."));
        QTest::keyClick(window.composer(), Qt::Key_Return);
        QVERIFY(QTest::qWaitFor([&] { return !window.chatView()->streamedAnswer().isEmpty() || !controller.isAnswering(); }, 180000));
        QTest::keyClick(&window, Qt::Key_Escape);
        QVERIFY(QTest::qWaitFor([&] { return !controller.isAnswering(); }, 60000));
        const auto stopped = controller.messages().last();
        QVERIFY(stopped.status == v4app::MessageStatus::Cancelled || stopped.status == v4app::MessageStatus::Complete);
    }
};

QTEST_MAIN(TestChatRealModel)
#include "test_chat_real_model.moc"
