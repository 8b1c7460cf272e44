#include "ChatWiring.h"

#include <QFileInfo>

#include "CitationPanel.h"
#include "DocumentsPanel.h"
#include "MainWindow.h"
#include "backends/LocalBackend.h"
#include "chat/ChatController.h"
#include "documents/DocumentsController.h"
#include "storage/ConversationStore.h"

namespace v4app {

namespace {

ChatMode toChatMode(v4ui::MainWindow::Mode mode) {
    switch (mode) {
        case v4ui::MainWindow::Mode::Fast: return ChatMode::Fast;
        case v4ui::MainWindow::Mode::Expert: return ChatMode::Expert;
        case v4ui::MainWindow::Mode::Auto: return ChatMode::Auto;
    }
    return ChatMode::Auto;
}

v4ui::MainWindow::Mode toWindowMode(const QString & name) {
    switch (chatModeFromName(name).value_or(ChatMode::Auto)) {
        case ChatMode::Fast: return v4ui::MainWindow::Mode::Fast;
        case ChatMode::Expert: return v4ui::MainWindow::Mode::Expert;
        case ChatMode::Auto: return v4ui::MainWindow::Mode::Auto;
    }
    return v4ui::MainWindow::Mode::Auto;
}

// The context in use: what the last answer's request and reply took.
int contextUsed(const QVector<StoredMessage> & messages) {
    for (auto it = messages.crbegin(); it != messages.crend(); ++it) {
        if (it->role == QLatin1String("assistant") && it->stats.promptTokens > 0) {
            return it->stats.promptTokens + it->stats.completionTokens;
        }
    }
    return 0;
}

} // namespace

void wireChat(v4ui::MainWindow & window, ChatController & controller, ConversationStore & store) {
    using v4ui::MainWindow;
    window.setStore(&store);
    QObject::connect(&window, &MainWindow::sendRequested, &controller,
                     [&controller](const QString & text, MainWindow::Mode mode) { controller.send(text, toChatMode(mode)); });
    QObject::connect(&window, &MainWindow::editResendRequested, &controller,
                     [&controller](qint64 id, const QString & text, MainWindow::Mode mode) {
                         controller.editAndResend(id, text, toChatMode(mode));
                     });
    QObject::connect(&window, &MainWindow::regenerateRequested, &controller,
                     [&controller](qint64 id, MainWindow::Mode mode) { controller.regenerate(id, toChatMode(mode)); });
    QObject::connect(&window, &MainWindow::deleteMessageRequested, &controller, &ChatController::deleteMessage);
    QObject::connect(&window, &MainWindow::siblingRequested, &controller, &ChatController::showSibling);
    QObject::connect(&window, &MainWindow::conversationSelected, &controller, &ChatController::openConversation);
    QObject::connect(&window, &MainWindow::newChatRequested, &controller, &ChatController::newConversation);
    QObject::connect(&window, &MainWindow::modeChanged, &controller,
                     [&controller](MainWindow::Mode mode) { controller.setMode(toChatMode(mode)); });
    QObject::connect(&window, &MainWindow::stopRequested, &controller, &ChatController::stop);

    QObject::connect(&controller, &ChatController::conversationLoaded, &window,
                     [&window, &controller, &store](qint64 id, const QString & mode) {
                         QString title;
                         if (id != 0) {
                             if (auto info = store.conversation(id)) {
                                 title = info->title;
                             }
                             window.setMode(toWindowMode(mode));
                         }
                         window.showConversation(id, title, controller.messagesForDisplay(), controller.answeringMessageId());
                         const int used = contextUsed(controller.messages());
                         if (used > 0 || id == 0) {
                             window.setContextUsage(used, window.contextWindow());
                         }
                     });
    QObject::connect(&controller, &ChatController::answerStarted, &window, &MainWindow::beginAssistantMessage);
    QObject::connect(&controller, &ChatController::thinkingReceived, &window, &MainWindow::appendThinking);
    QObject::connect(&controller, &ChatController::answerReceived, &window, &MainWindow::appendAnswer);
    QObject::connect(&controller, &ChatController::answerFinished, &window, [&window](const GenerationStats & stats, const QString &) {
        window.finishAssistantMessage(QString()); // the footer is drawn from the stored stats
        window.setTokensPerSecond(stats.tokensPerSecond);
    });
    QObject::connect(&controller, &ChatController::answerFailed, &window, [&window](const QString & message, bool cancelled) {
        window.finishAssistantMessage(QString());
        if (!cancelled) {
            window.showNotice(message, true);
        }
    });
    QObject::connect(&controller, &ChatController::messageNotSaved, &window, &MainWindow::restoreComposer);
    QObject::connect(&controller, &ChatController::problem, &window, [&window](const QString & message) { window.showNotice(message, true); });
    QObject::connect(&store, &ConversationStore::storageError, &window, [&window](const StorageError & error) {
        window.showNotice(QObject::tr("Could not save: %1\nThe text stays on screen; saving is retried.").arg(error.message), true);
    });
}

void wireDocuments(v4ui::MainWindow & window, ChatController & controller, documents::DocumentsController & documents) {
    window.documentsPanel()->setController(&documents);
    window.citationPanel()->setController(&documents);
    controller.setDocuments(&documents);
    QObject::connect(&controller, &ChatController::documentContextChanged, &window, &v4ui::MainWindow::setContextDetail);
    QObject::connect(window.documentsPanel(), &v4ui::DocumentsPanel::summarizeRequested, &controller,
                     [&window, &controller](const QString & message) { controller.send(message, toChatMode(window.mode())); });
}

void wireLocalBackend(v4ui::MainWindow & window, ChatController & controller, LocalBackend & backend) {
    using v4ui::MainWindow;
    // The engine maps the model file; when it is deleted or moved, what is loaded keeps working
    // until the app quits, but the next start cannot load it: say so before it surprises anyone.
    QObject::connect(&window, &MainWindow::sendRequested, &window, [&window, &controller] {
        const QString model = controller.model();
        if (!model.isEmpty() && !QFileInfo::exists(model)) {
            window.showNotice(QObject::tr("The model file “%1” is gone (deleted or moved). The copy already loaded keeps "
                                          "answering until V4 Chat quits; choose a model in Models and setup to keep chatting after that.")
                                  .arg(model),
                              true);
        }
    });
    QObject::connect(&backend, &LocalBackend::modelLoadProgress, &window, &MainWindow::setLoadProgress);
    QObject::connect(&backend, &LocalBackend::modelLoaded, &window,
                     [&window, &controller](const QString &, const QString & description, int contextSize) {
                         window.setLoadProgress(1.0);
                         window.setBackendStatus(QObject::tr("Local engine"), description);
                         controller.setContextWindow(contextSize);
                         window.setContextUsage(contextUsed(controller.messages()), contextSize);
                     });
    // A session snapshot that could not be written (disk full...) only costs a prefill later: say so, chat on.
    QObject::connect(&backend, &LocalBackend::sessionSaveFailed, &window, [&window](qint64, const QString & message) {
        window.showNotice(QObject::tr("The conversation's engine state was not saved (reopening it will read it "
                                      "again from the start): %1").arg(message));
    });
    QObject::connect(&backend, &LocalBackend::modelLoadFailed, &window, [&window](const QString & path, const QString & message) {
        window.setLoadProgress(1.0);
        window.setBackendStatus(QObject::tr("Local engine"), QObject::tr("could not load %1").arg(QFileInfo(path).fileName()));
        window.showNotice(QObject::tr("Could not load the model “%1”: %2").arg(path, message), true);
    });
}

} // namespace v4app
