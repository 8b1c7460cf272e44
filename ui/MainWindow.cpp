#include "MainWindow.h"

#include <QButtonGroup>
#include <QDockWidget>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "ChatView.h"
#include "CitationPanel.h"
#include "ConversationSidebar.h"
#include "DocumentsPanel.h"
#include "Toast.h"

namespace v4ui {

namespace {

// Enter sends, Shift+Enter inserts a newline.
class ComposerEdit final : public QPlainTextEdit {
public:
    std::function<void()> onSubmit;

protected:
    void keyPressEvent(QKeyEvent * event) override {
        const bool enter = event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter;
        if (enter && !(event->modifiers() & Qt::ShiftModifier)) {
            if (onSubmit) {
                onSubmit();
            }
            return;
        }
        QPlainTextEdit::keyPressEvent(event);
    }
};

} // namespace

MainWindow::MainWindow(QWidget * parent) : QMainWindow(parent) {
    setWindowTitle(tr("V4 Chat"));
    setObjectName(QStringLiteral("MainWindow"));
    resize(1180, 760);
    setMinimumSize(720, 480);

    m_sidebar = new ConversationSidebar(this);
    connect(m_sidebar, &ConversationSidebar::selected, this, &MainWindow::conversationSelected);
    connect(m_sidebar, &ConversationSidebar::newChatRequested, this, &MainWindow::newChatRequested);
    connect(m_sidebar, &ConversationSidebar::setupRequested, this, &MainWindow::setupRequested);
    connect(m_sidebar, &ConversationSidebar::deleted, this, &MainWindow::onConversationDeleted);
    connect(m_sidebar, &ConversationSidebar::problem, this, [this](const QString & m) { showNotice(m, true); });

    auto * splitter = new QSplitter(this);
    splitter->setChildrenCollapsible(false);
    splitter->setHandleWidth(1);
    splitter->addWidget(m_sidebar);
    splitter->addWidget(buildChatArea());
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({260, 920});
    setCentralWidget(splitter);

    buildDocumentDocks();
    buildStatusBar();
    buildShortcuts();
    setBackendStatus(tr("No backend"), tr("no model loaded"));
    setContextUsage(0, 0);
}

void MainWindow::setStore(v4app::ConversationStore * store) {
    m_store = store;
    m_sidebar->setStore(store);
}

QWidget * MainWindow::buildChatArea() {
    auto * area = new QWidget(this);
    auto * layout = new QVBoxLayout(area);
    layout->setContentsMargins(24, 14, 24, 18);
    layout->setSpacing(12);

    m_title = new QLabel(tr("New conversation"), area);
    m_title->setObjectName(QStringLiteral("ChatTitle"));
    m_title->setTextFormat(Qt::PlainText);
    layout->addWidget(m_title);

    m_chatStack = new QStackedWidget(area);
    auto * empty = new QLabel(tr("<div style='font-size:22px; font-weight:600'>How can I help?</div>"
                                 "<p>Ask anything. <b>Fast</b> answers at once, <b>Expert</b> thinks first, "
                                 "<b>Auto</b> picks for you.</p>"),
                              area);
    empty->setObjectName(QStringLiteral("EmptyState"));
    empty->setAlignment(Qt::AlignCenter);
    empty->setWordWrap(true);
    m_chatView = new ChatView(area);
    connect(m_chatView, &ChatView::copied, this, [this](const QString & what) { showNotice(what); });
    connect(m_chatView, &ChatView::editRequested, this, &MainWindow::startEditing);
    connect(m_chatView, &ChatView::regenerateRequested, this, [this](qint64 id) { emit regenerateRequested(id, mode()); });
    connect(m_chatView, &ChatView::deleteRequested, this, &MainWindow::deleteMessageRequested);
    connect(m_chatView, &ChatView::siblingRequested, this, &MainWindow::siblingRequested);
    m_chatStack->addWidget(empty);
    m_chatStack->addWidget(m_chatView);
    layout->addWidget(m_chatStack, 1);

    layout->addWidget(buildComposer());
    m_toast = new Toast(area);
    return area;
}

QWidget * MainWindow::buildComposer() {
    auto * composer = new QWidget(this);
    composer->setObjectName(QStringLiteral("Composer"));
    composer->setAttribute(Qt::WA_StyledBackground);
    auto * layout = new QVBoxLayout(composer);
    layout->setContentsMargins(12, 10, 12, 10);
    layout->setSpacing(8);

    m_editBanner = new QWidget(composer);
    auto * bannerLayout = new QHBoxLayout(m_editBanner);
    bannerLayout->setContentsMargins(4, 0, 0, 0);
    auto * bannerText = new QLabel(tr("Editing your message: Enter sends it as a new branch, Esc cancels."), m_editBanner);
    bannerText->setObjectName(QStringLiteral("Hint"));
    auto * cancel = new QPushButton(tr("Cancel"), m_editBanner);
    connect(cancel, &QPushButton::clicked, this, &MainWindow::cancelEditing);
    bannerLayout->addWidget(bannerText, 1);
    bannerLayout->addWidget(cancel);
    m_editBanner->hide();
    layout->addWidget(m_editBanner);

    auto * edit = new ComposerEdit;
    edit->setParent(composer);
    edit->onSubmit = [this] { submitComposer(); };
    edit->setPlaceholderText(tr("Message V4 Chat (Enter to send, Shift+Enter for a new line)"));
    edit->setAccessibleName(tr("Message"));
    edit->setFixedHeight(72);
    m_composer = edit;
    layout->addWidget(m_composer);

    auto * row = new QHBoxLayout;
    auto * modeSwitch = new QWidget(composer);
    modeSwitch->setObjectName(QStringLiteral("ModeSwitch"));
    modeSwitch->setAttribute(Qt::WA_StyledBackground);
    modeSwitch->setAccessibleName(tr("Mode"));
    auto * modeLayout = new QHBoxLayout(modeSwitch);
    modeLayout->setContentsMargins(3, 3, 3, 3);
    modeLayout->setSpacing(2);
    m_modeGroup = new QButtonGroup(this);
    const struct {
        Mode    mode;
        QString label;
        QString tip;
    } modes[] = {
        {Mode::Fast, tr("Fast"), tr("Low latency, no visible reasoning")},
        {Mode::Expert, tr("Expert"), tr("Reasoning model: thinks first, thinking shown")},
        {Mode::Auto, tr("Auto"), tr("Picks Fast or Expert for each message and says why")},
    };
    for (const auto & m : modes) {
        auto * button = new QToolButton(modeSwitch);
        button->setText(m.label);
        button->setToolTip(m.tip);
        button->setAccessibleName(m.label + tr(" mode"));
        button->setCheckable(true);
        m_modeGroup->addButton(button, static_cast<int>(m.mode));
        modeLayout->addWidget(button);
    }
    m_modeGroup->button(static_cast<int>(Mode::Auto))->setChecked(true);
    connect(m_modeGroup, &QButtonGroup::idClicked, this, [this](int id) { emit modeChanged(static_cast<Mode>(id)); });
    row->addWidget(modeSwitch);
    row->addStretch();

    m_sendButton = new QPushButton(tr("Send"), composer);
    m_sendButton->setObjectName(QStringLiteral("PrimaryButton"));
    m_sendButton->setAccessibleName(tr("Send message"));
    m_sendButton->setEnabled(false);
    connect(m_sendButton, &QPushButton::clicked, this, [this] {
        if (m_streaming) {
            emit stopRequested();
        } else {
            submitComposer();
        }
    });
    connect(m_composer, &QPlainTextEdit::textChanged, this,
            [this] { m_sendButton->setEnabled(m_streaming || !m_composer->toPlainText().trimmed().isEmpty()); });
    row->addWidget(m_sendButton);
    layout->addLayout(row);
    return composer;
}

void MainWindow::buildDocumentDocks() {
    m_documentsPanel = new DocumentsPanel(this);
    m_documentsDock  = new QDockWidget(tr("Documents"), this);
    m_documentsDock->setObjectName(QStringLiteral("DocumentsDock"));
    m_documentsDock->setWidget(m_documentsPanel);
    m_citationPanel = new CitationPanel(this);
    m_citationDock  = new QDockWidget(tr("Source"), this);
    m_citationDock->setObjectName(QStringLiteral("CitationDock"));
    m_citationDock->setWidget(m_citationPanel);
    for (QDockWidget * dock : {m_documentsDock, m_citationDock}) {
        dock->setAllowedAreas(Qt::LeftDockWidgetArea | Qt::RightDockWidgetArea);
        addDockWidget(Qt::RightDockWidgetArea, dock);
        dock->hide();
    }
    connect(m_chatView, &ChatView::citationClicked, m_citationPanel, &CitationPanel::openCitation);
    connect(m_citationPanel, &CitationPanel::passageShown, this, [this] {
        m_citationDock->show();
        m_citationDock->raise();
    });
}

void MainWindow::buildStatusBar() {
    m_backendLabel = new QLabel(this);
    m_backendLabel->setAccessibleName(tr("Backend and model"));
    m_contextMeter = new QProgressBar(this);
    m_contextMeter->setTextVisible(false);
    m_contextMeter->setAccessibleName(tr("Context used"));
    m_contextLabel = new QLabel(this);
    m_contextLabel->setAccessibleName(tr("Context tokens"));
    m_speedLabel = new QLabel(this);
    m_speedLabel->setObjectName(QStringLiteral("SpeedLabel"));
    m_speedLabel->setAccessibleName(tr("Generation speed"));
    m_loadBar = new QProgressBar(this);
    m_loadBar->setRange(0, 100);
    m_loadBar->setMaximumWidth(140);
    m_loadBar->setAccessibleName(tr("Model loading"));
    m_loadBar->hide();
    statusBar()->addWidget(m_backendLabel, 1);
    statusBar()->addWidget(m_loadBar);
    statusBar()->addPermanentWidget(m_contextLabel);
    statusBar()->addPermanentWidget(m_contextMeter);
    statusBar()->addPermanentWidget(m_speedLabel);
    auto * documentsButton = new QToolButton(this);
    documentsButton->setDefaultAction(m_documentsDock->toggleViewAction());
    documentsButton->setObjectName(QStringLiteral("StatusDocuments"));
    documentsButton->setAccessibleName(tr("Documents"));
    m_documentsDock->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    m_documentsDock->toggleViewAction()->setToolTip(tr("Documents of this conversation (Ctrl+D)"));
    addAction(m_documentsDock->toggleViewAction()); // the shortcut works while the dock is hidden
    statusBar()->addPermanentWidget(documentsButton);
    auto * settingsButton = new QToolButton(this);
    settingsButton->setText(tr("Settings"));
    settingsButton->setObjectName(QStringLiteral("StatusSettings"));
    settingsButton->setAccessibleName(tr("Settings"));
    settingsButton->setToolTip(tr("Settings (Ctrl+,)"));
    connect(settingsButton, &QToolButton::clicked, this, &MainWindow::settingsRequested);
    statusBar()->addPermanentWidget(settingsButton);
    statusBar()->setSizeGripEnabled(false);
}

void MainWindow::buildShortcuts() {
    auto * focusComposer = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_L), this);
    connect(focusComposer, &QShortcut::activated, m_composer, [this] { m_composer->setFocus(); });
    auto * escape = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    connect(escape, &QShortcut::activated, this, [this] {
        if (m_streaming) {
            emit stopRequested();
        } else if (m_editingId != 0) {
            cancelEditing();
        }
    });
    for (const QKeySequence & keys : {QKeySequence(QKeySequence::Find), QKeySequence(Qt::CTRL | Qt::Key_K)}) {
        auto * search = new QShortcut(keys, this);
        connect(search, &QShortcut::activated, m_sidebar, &ConversationSidebar::focusSearch);
    }
    auto * settings = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma), this);
    connect(settings, &QShortcut::activated, this, &MainWindow::settingsRequested);
    auto * newChat = new QShortcut(QKeySequence::New, this);
    connect(newChat, &QShortcut::activated, this, &MainWindow::newChatRequested);
}

MainWindow::Mode MainWindow::mode() const { return static_cast<Mode>(m_modeGroup->checkedId()); }

void MainWindow::setMode(Mode mode) { m_modeGroup->button(static_cast<int>(mode))->setChecked(true); }

void MainWindow::setBackendStatus(const QString & backend, const QString & model) {
    m_backendLabel->setText(backend + QStringLiteral(" · ") + model);
}

void MainWindow::setContextUsage(int used, int window) {
    m_contextWindow = window;
    m_contextMeter->setRange(0, qMax(window, 1));
    m_contextMeter->setValue(window > 0 ? qMin(used, window) : 0);
    m_contextUsed = used;
    m_contextLabel->setText(window > 0 ? tr("%L1 / %L2 tokens").arg(used).arg(window) : tr("context —"));
    updateContextTooltip();
}

void MainWindow::setLoadProgress(double fraction) {
    const bool loading = fraction >= 0.0 && fraction < 1.0;
    m_loadBar->setValue(loading ? int(fraction * 100.0) : 0);
    m_loadBar->setVisible(loading);
}

void MainWindow::setContextDetail(const QString & detail) {
    m_contextDetail = detail;
    updateContextTooltip();
}

void MainWindow::updateContextTooltip() {
    QStringList lines;
    if (m_contextWindow > 0) {
        lines << tr("%1% of the context window used").arg(100 * m_contextUsed / m_contextWindow);
    }
    if (!m_contextDetail.isEmpty()) {
        lines << m_contextDetail;
    }
    m_contextMeter->setToolTip(lines.join(QLatin1Char('\n')));
}

void MainWindow::setTokensPerSecond(double tokensPerSecond) {
    m_speedLabel->setText(tokensPerSecond > 0 ? tr("%1 tok/s").arg(tokensPerSecond, 0, 'f', 1) : QString());
}

void MainWindow::showConversation(qint64 id, const QString & title, const QVector<v4app::StoredMessage> & messages,
                                  qint64 streamingId) {
    if (id != m_conversationId) {
        cancelEditing();
        setContextDetail(QString()); // the documents' line belongs to the conversation it was about
    }
    m_conversationId = id;
    m_title->setText(title.isEmpty() ? tr("New conversation") : title);
    m_sidebar->setCurrent(id);
    m_documentsPanel->setConversation(id);
    m_chatView->setMessages(messages, streamingId);
    m_chatStack->setCurrentWidget(messages.isEmpty() ? m_chatStack->widget(0) : m_chatView);
}

void MainWindow::appendMessage(const QString & role, const QString & text) {
    m_chatStack->setCurrentWidget(m_chatView);
    m_chatView->appendPreview(role, text);
}

void MainWindow::showNotice(const QString & text, bool error) { m_toast->show(text, {}, {}, error); }

void MainWindow::restoreComposer(const QString & text) {
    if (m_composer->toPlainText().trimmed().isEmpty()) {
        m_composer->setPlainText(text);
        m_composer->moveCursor(QTextCursor::End);
    }
}

void MainWindow::onConversationDeleted(qint64 id, const QString & title) {
    if (id == m_conversationId) {
        emit newChatRequested();
    }
    m_toast->show(tr("Deleted “%1”").arg(title), tr("Undo"), [this, id] {
        if (m_store) {
            if (auto s = m_store->undoDelete(id); !s) {
                showNotice(s.error().message, true);
            }
        }
    });
}

void MainWindow::beginAssistantMessage() {
    m_chatStack->setCurrentWidget(m_chatView);
    m_chatView->beginStreaming();
    m_streamChars = 0;
    m_streamClock.invalidate();
    setStreaming(true);
}

void MainWindow::countStreamed(const QString & text) {
    if (!m_streamClock.isValid()) {
        m_streamClock.start();
    } else if (m_streamClock.elapsed() > 300) {
        // Live estimate (about four characters per token) until the backend's exact figure at the end.
        setTokensPerSecond(m_streamChars / 4.0 / (m_streamClock.elapsed() / 1000.0));
    }
    m_streamChars += text.size();
}

void MainWindow::appendThinking(const QString & text) {
    countStreamed(text);
    m_chatView->appendThinking(text);
}

void MainWindow::appendAnswer(const QString & text) {
    countStreamed(text);
    m_chatView->appendAnswer(text);
}

void MainWindow::finishAssistantMessage(const QString & footer) {
    if (!footer.isEmpty() && m_chatView->isStreaming()) {
        m_chatView->appendPreview(QStringLiteral("notice"), footer);
    }
    setStreaming(false);
}

void MainWindow::setStreaming(bool streaming) {
    m_streaming = streaming;
    m_sendButton->setText(streaming ? tr("Stop") : tr("Send"));
    m_sendButton->setAccessibleName(streaming ? tr("Stop answering") : tr("Send message"));
    m_sendButton->setToolTip(streaming ? tr("Stop the answer (Esc)") : QString());
    m_sendButton->setEnabled(streaming || !m_composer->toPlainText().trimmed().isEmpty());
}

void MainWindow::startEditing(qint64 messageId, const QString & text) {
    if (m_streaming) {
        showNotice(tr("Wait for the answer to finish, or stop it first."));
        return;
    }
    m_editingId = messageId;
    m_composer->setPlainText(text);
    m_editBanner->show();
    m_composer->setFocus();
    m_composer->moveCursor(QTextCursor::End);
}

void MainWindow::cancelEditing() {
    if (m_editingId == 0) {
        return;
    }
    m_editingId = 0;
    m_editBanner->hide();
    m_composer->clear();
}

void MainWindow::submitComposer() {
    if (m_streaming) {
        return; // the text stays in the composer until the answer is done or stopped
    }
    const QString text = m_composer->toPlainText().trimmed();
    if (text.isEmpty()) {
        return;
    }
    const qint64 editing = std::exchange(m_editingId, 0);
    m_editBanner->hide();
    m_composer->clear();
    if (editing != 0) {
        emit editResendRequested(editing, text, mode());
        return;
    }
    appendMessage(QStringLiteral("user"), text); // shown at once; the store's copy replaces it
    emit sendRequested(text, mode());
}

} // namespace v4ui
