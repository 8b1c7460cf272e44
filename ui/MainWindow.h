// The main window: conversations on the left (ConversationSidebar), the chat in the middle
// (ChatView), the composer with the mode switch at the bottom, and a status bar with
// backend/model, context meter and speed. The conversation's documents (DocumentsPanel) and the
// passage behind a citation link (CitationPanel) sit in docks on the right, hidden until asked for
// (Documents button, Ctrl+D; a citation click shows its passage). Presentation only: what the user asks for comes out as
// signals; app/desktop/ChatWiring connects them to the ChatController.
#pragma once

#include <QElapsedTimer>
#include <QMainWindow>

#include "storage/ConversationStore.h"

class QButtonGroup;
class QDockWidget;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QStackedWidget;

namespace v4ui {

class ChatView;
class CitationPanel;
class ConversationSidebar;
class DocumentsPanel;
class Toast;

class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    enum class Mode { Fast, Expert, Auto };

    explicit MainWindow(QWidget * parent = nullptr);

    void setStore(v4app::ConversationStore * store); // the sidebar lists it; not owned

    Mode mode() const;
    void setMode(Mode mode); // shows the conversation's mode; emits nothing
    void setBackendStatus(const QString & backend, const QString & model);
    void setContextUsage(int used, int window);
    // A line under the context meter's tooltip: what of the attached documents is in the prompt.
    void setContextDetail(const QString & detail);
    int  contextWindow() const { return m_contextWindow; } // the last window size given
    void setTokensPerSecond(double tokensPerSecond);
    // Model loading: a bar in the status bar while 0 <= fraction < 1; hidden otherwise.
    void setLoadProgress(double fraction);
    QProgressBar * loadProgressBar() const { return m_loadBar; }

    // The open conversation (id 0: a new chat). `streamingId`: its last message is streaming.
    void showConversation(qint64 id, const QString & title, const QVector<v4app::StoredMessage> & messages,
                          qint64 streamingId = 0);
    // A message shown before the store has it (e.g. a notice); role "user", "assistant" or "notice".
    void appendMessage(const QString & role, const QString & text);
    // A toast at the bottom of the chat; errors stay until closed.
    void showNotice(const QString & text, bool error = false);
    // A message that could not be sent goes back into the composer (unless something new is there).
    void restoreComposer(const QString & text);

    // A streamed answer: begin, then pieces of thinking and answer text, then finish. While one
    // streams, the Send button turns into Stop and the status bar shows the live speed.
    void beginAssistantMessage();
    void appendThinking(const QString & text);
    void appendAnswer(const QString & text);
    void finishAssistantMessage(const QString & footer);
    bool isStreaming() const { return m_streaming; }

    ChatView *            chatView() const { return m_chatView; }
    ConversationSidebar * sidebar() const { return m_sidebar; }
    QPlainTextEdit *      composer() const { return m_composer; }
    Toast *               toast() const { return m_toast; }
    DocumentsPanel *      documentsPanel() const { return m_documentsPanel; }
    CitationPanel *       citationPanel() const { return m_citationPanel; }
    QDockWidget *         documentsDock() const { return m_documentsDock; }
    QDockWidget *         citationDock() const { return m_citationDock; }

signals:
    void sendRequested(const QString & text, v4ui::MainWindow::Mode mode);
    void editResendRequested(qint64 messageId, const QString & text, v4ui::MainWindow::Mode mode);
    void regenerateRequested(qint64 messageId, v4ui::MainWindow::Mode mode);
    void deleteMessageRequested(qint64 messageId);
    void siblingRequested(qint64 messageId, int step);
    void conversationSelected(qint64 conversationId);
    void newChatRequested();
    void modeChanged(v4ui::MainWindow::Mode mode);
    void setupRequested();
    void settingsRequested(); // Ctrl+, or the Settings button
    void stopRequested();

private:
    QWidget * buildChatArea();
    QWidget * buildComposer();
    void      buildStatusBar();
    void      buildDocumentDocks();
    void      updateContextTooltip();
    void      buildShortcuts();
    void      submitComposer();
    void      setStreaming(bool streaming);
    void      countStreamed(const QString & text);
    void      startEditing(qint64 messageId, const QString & text);
    void      cancelEditing();
    void      onConversationDeleted(qint64 id, const QString & title);

    v4app::ConversationStore * m_store = nullptr;
    ConversationSidebar *      m_sidebar = nullptr;
    QLabel *                   m_title = nullptr;
    QStackedWidget *           m_chatStack = nullptr;
    ChatView *                 m_chatView = nullptr;
    Toast *                    m_toast = nullptr;
    QWidget *                  m_editBanner = nullptr;
    QPlainTextEdit *           m_composer = nullptr;
    QPushButton *              m_sendButton = nullptr;
    QButtonGroup *             m_modeGroup = nullptr;
    QLabel *                   m_backendLabel = nullptr;
    QProgressBar *             m_contextMeter = nullptr;
    QProgressBar *             m_loadBar = nullptr;
    QLabel *                   m_contextLabel = nullptr;
    QLabel *                   m_speedLabel = nullptr;
    DocumentsPanel *           m_documentsPanel = nullptr;
    CitationPanel *            m_citationPanel = nullptr;
    QDockWidget *              m_documentsDock = nullptr;
    QDockWidget *              m_citationDock = nullptr;
    int                        m_contextWindow = 0;
    int                        m_contextUsed = 0;
    QString                    m_contextDetail;
    qint64                     m_conversationId = 0;
    qint64                     m_editingId = 0;
    bool                       m_streaming = false;
    QElapsedTimer              m_streamClock; // live speed: characters since the first piece
    qint64                     m_streamChars = 0;
};

} // namespace v4ui
