#include "ChatWiring.h"

#include <QFileInfo>

#include "MainWindow.h"
#include "backends/LocalBackend.h"
#include "chat/ChatController.h"

namespace v4app {

void wireChat(v4ui::MainWindow & window, ChatController & controller, LocalBackend & backend) {
    using v4ui::MainWindow;
    QObject::connect(&window, &MainWindow::sendRequested, &controller, [&controller](const QString & text, MainWindow::Mode mode) {
        controller.send(text, mode == MainWindow::Mode::Expert ? ChatMode::Expert
                              : mode == MainWindow::Mode::Fast ? ChatMode::Fast : ChatMode::Auto);
    });
    QObject::connect(&window, &MainWindow::stopRequested, &controller, &ChatController::stop);
    QObject::connect(&controller, &ChatController::answerStarted, &window, &MainWindow::beginAssistantMessage);
    QObject::connect(&controller, &ChatController::thinkingReceived, &window, &MainWindow::appendThinking);
    QObject::connect(&controller, &ChatController::answerReceived, &window, &MainWindow::appendAnswer);
    QObject::connect(&controller, &ChatController::answerFinished, &window,
                     [&window](const GenerationStats & stats, const QString & footer) {
                         window.finishAssistantMessage(footer);
                         window.setTokensPerSecond(stats.tokensPerSecond);
                     });
    QObject::connect(&controller, &ChatController::answerFailed, &window, [&window](const QString & message, bool cancelled) {
        window.finishAssistantMessage(cancelled ? QObject::tr("Stopped.") : message);
    });
    QObject::connect(&backend, &LocalBackend::modelLoaded, &window,
                     [&window](const QString &, const QString & description, int contextSize) {
                         window.setBackendStatus(QObject::tr("Local engine"), description);
                         window.setContextUsage(0, contextSize);
                     });
    QObject::connect(&backend, &LocalBackend::modelLoadFailed, &window, [&window](const QString & path, const QString & message) {
        window.setBackendStatus(QObject::tr("Local engine"), QObject::tr("could not load %1").arg(QFileInfo(path).fileName()));
        window.appendMessage(QStringLiteral("notice"), message);
    });
}

} // namespace v4app
