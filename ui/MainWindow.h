// The main window: conversations on the left, the chat in the middle, the composer with the mode
// switch at the bottom, and a status bar with backend/model, context meter and speed.
#pragma once

#include <QMainWindow>

class QButtonGroup;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QTextBrowser;

namespace v4ui {

class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    enum class Mode { Fast, Expert, Auto };

    explicit MainWindow(QWidget * parent = nullptr);

    Mode mode() const;
    void setBackendStatus(const QString & backend, const QString & model);
    void setContextUsage(int used, int window);
    void setTokensPerSecond(double tokensPerSecond);
    // Appends a finished message to the chat view (role: "user", "assistant" or "notice").
    void appendMessage(const QString & role, const QString & text);

    // A streamed answer: begin, then pieces of thinking and answer text, then finish with a footer
    // (model, speed). While one streams, the Send button turns into Stop.
    void beginAssistantMessage();
    void appendThinking(const QString & text);
    void appendAnswer(const QString & text);
    void finishAssistantMessage(const QString & footer);

signals:
    void sendRequested(const QString & text, v4ui::MainWindow::Mode mode);
    void setupRequested();
    void stopRequested();

private:
    QWidget * buildSidebar();
    QWidget * buildChatArea();
    QWidget * buildComposer();
    void      buildStatusBar();
    void      buildShortcuts();
    void      submitComposer();
    void      appendStreamed(const QString & text, bool thinking);
    void      setStreaming(bool streaming);

    QLineEdit *      m_search = nullptr;
    QListWidget *    m_conversations = nullptr;
    QStackedWidget * m_chatStack = nullptr;
    QTextBrowser *   m_chatView = nullptr;
    QPlainTextEdit * m_composer = nullptr;
    QPushButton *    m_sendButton = nullptr;
    QButtonGroup *   m_modeGroup = nullptr;
    QLabel *         m_backendLabel = nullptr;
    QProgressBar *   m_contextMeter = nullptr;
    QLabel *         m_contextLabel = nullptr;
    QLabel *         m_speedLabel = nullptr;
    bool             m_streaming = false;
    int              m_streamSection = 0; // 0 nothing yet, 1 thinking, 2 answer
};

} // namespace v4ui
