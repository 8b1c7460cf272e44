#include "MainWindow.h"

#include <QButtonGroup>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTextBrowser>
#include <QTextCursor>
#include <QToolButton>
#include <QVBoxLayout>

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

    auto * splitter = new QSplitter(this);
    splitter->setChildrenCollapsible(false);
    splitter->setHandleWidth(1);
    splitter->addWidget(buildSidebar());
    splitter->addWidget(buildChatArea());
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({260, 920});
    setCentralWidget(splitter);

    buildStatusBar();
    buildShortcuts();
    setBackendStatus(tr("No backend"), tr("no model loaded"));
    setContextUsage(0, 0);
}

QWidget * MainWindow::buildSidebar() {
    auto * sidebar = new QWidget(this);
    sidebar->setObjectName(QStringLiteral("Sidebar"));
    sidebar->setMinimumWidth(200);
    sidebar->setAttribute(Qt::WA_StyledBackground);
    auto * layout = new QVBoxLayout(sidebar);
    layout->setContentsMargins(12, 14, 12, 12);
    layout->setSpacing(10);

    auto * header = new QHBoxLayout;
    auto * title = new QLabel(tr("V4 Chat"), sidebar);
    title->setObjectName(QStringLiteral("SidebarTitle"));
    auto * newChat = new QPushButton(tr("New chat"), sidebar);
    newChat->setAccessibleName(tr("New chat"));
    newChat->setToolTip(tr("Start a new conversation (Ctrl+N)"));
    header->addWidget(title);
    header->addStretch();
    header->addWidget(newChat);
    layout->addLayout(header);

    m_search = new QLineEdit(sidebar);
    m_search->setPlaceholderText(tr("Search conversations"));
    m_search->setAccessibleName(tr("Search conversations"));
    m_search->setClearButtonEnabled(true);
    layout->addWidget(m_search);

    m_conversations = new QListWidget(sidebar);
    m_conversations->setAccessibleName(tr("Conversations"));
    layout->addWidget(m_conversations, 1);

    auto * setup = new QPushButton(tr("Models and setup…"), sidebar);
    setup->setAccessibleName(tr("Models and setup"));
    connect(setup, &QPushButton::clicked, this, &MainWindow::setupRequested);
    layout->addWidget(setup);
    return sidebar;
}

QWidget * MainWindow::buildChatArea() {
    auto * area = new QWidget(this);
    auto * layout = new QVBoxLayout(area);
    layout->setContentsMargins(24, 14, 24, 18);
    layout->setSpacing(12);

    auto * title = new QLabel(tr("New conversation"), area);
    title->setObjectName(QStringLiteral("ChatTitle"));
    layout->addWidget(title);

    m_chatStack = new QStackedWidget(area);
    auto * empty = new QLabel(tr("<div style='font-size:22px; font-weight:600'>How can I help?</div>"
                                 "<p>Ask anything. <b>Fast</b> answers at once, <b>Expert</b> thinks first, "
                                 "<b>Auto</b> picks for you.</p>"),
                              area);
    empty->setObjectName(QStringLiteral("EmptyState"));
    empty->setAlignment(Qt::AlignCenter);
    empty->setWordWrap(true);
    m_chatView = new QTextBrowser(area);
    m_chatView->setObjectName(QStringLiteral("ChatView"));
    m_chatView->setAccessibleName(tr("Conversation"));
    m_chatView->setOpenExternalLinks(true);
    m_chatStack->addWidget(empty);
    m_chatStack->addWidget(m_chatView);
    layout->addWidget(m_chatStack, 1);

    layout->addWidget(buildComposer());
    return area;
}

QWidget * MainWindow::buildComposer() {
    auto * composer = new QWidget(this);
    composer->setObjectName(QStringLiteral("Composer"));
    composer->setAttribute(Qt::WA_StyledBackground);
    auto * layout = new QVBoxLayout(composer);
    layout->setContentsMargins(12, 10, 12, 10);
    layout->setSpacing(8);

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

void MainWindow::buildStatusBar() {
    m_backendLabel = new QLabel(this);
    m_backendLabel->setAccessibleName(tr("Backend and model"));
    m_contextMeter = new QProgressBar(this);
    m_contextMeter->setTextVisible(false);
    m_contextMeter->setAccessibleName(tr("Context used"));
    m_contextLabel = new QLabel(this);
    m_speedLabel = new QLabel(this);
    m_speedLabel->setAccessibleName(tr("Generation speed"));
    statusBar()->addWidget(m_backendLabel, 1);
    statusBar()->addPermanentWidget(m_contextLabel);
    statusBar()->addPermanentWidget(m_contextMeter);
    statusBar()->addPermanentWidget(m_speedLabel);
    statusBar()->setSizeGripEnabled(false);
}

void MainWindow::buildShortcuts() {
    auto * focusComposer = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_L), this);
    connect(focusComposer, &QShortcut::activated, m_composer, [this] { m_composer->setFocus(); });
    auto * stop = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    connect(stop, &QShortcut::activated, this, [this] {
        if (m_streaming) {
            emit stopRequested();
        }
    });
    auto * search = new QShortcut(QKeySequence::Find, this);
    connect(search, &QShortcut::activated, m_search, [this] { m_search->setFocus(); });
}

MainWindow::Mode MainWindow::mode() const { return static_cast<Mode>(m_modeGroup->checkedId()); }

void MainWindow::setBackendStatus(const QString & backend, const QString & model) {
    m_backendLabel->setText(backend + QStringLiteral(" · ") + model);
}

void MainWindow::setContextUsage(int used, int window) {
    m_contextMeter->setRange(0, qMax(window, 1));
    m_contextMeter->setValue(used);
    m_contextLabel->setText(window > 0 ? tr("%L1 / %L2 tokens").arg(used).arg(window) : tr("context —"));
}

void MainWindow::setTokensPerSecond(double tokensPerSecond) {
    m_speedLabel->setText(tokensPerSecond > 0 ? tr("%1 tok/s").arg(tokensPerSecond, 0, 'f', 1) : QString());
}

void MainWindow::appendMessage(const QString & role, const QString & text) {
    m_chatStack->setCurrentWidget(m_chatView);
    const QString who = role == QLatin1String("user") ? tr("You")
                      : role == QLatin1String("assistant") ? tr("V4 Chat") : tr("Notice");
    m_chatView->append(QStringLiteral("<p><b>%1</b><br>%2</p>").arg(who, text.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>"))));
}

void MainWindow::beginAssistantMessage() {
    m_chatStack->setCurrentWidget(m_chatView);
    m_chatView->append(QStringLiteral("<p><b>%1</b></p>").arg(tr("V4 Chat")));
    m_streamSection = 0;
    setStreaming(true);
}

void MainWindow::appendStreamed(const QString & text, bool thinking) {
    QTextCursor cursor(m_chatView->document());
    cursor.movePosition(QTextCursor::End);
    const int section = thinking ? 1 : 2;
    if (m_streamSection != section) {
        cursor.insertBlock();
        m_streamSection = section;
    }
    QTextCharFormat format;
    if (thinking) {
        format.setForeground(m_chatView->palette().color(QPalette::PlaceholderText));
        format.setFontItalic(true);
    }
    cursor.insertText(text, format);
    m_chatView->ensureCursorVisible();
}

void MainWindow::appendThinking(const QString & text) { appendStreamed(text, true); }

void MainWindow::appendAnswer(const QString & text) { appendStreamed(text, false); }

void MainWindow::finishAssistantMessage(const QString & footer) {
    if (!footer.isEmpty()) {
        m_chatView->append(QStringLiteral("<p style='color:gray; font-size:small'>%1</p>").arg(footer.toHtmlEscaped()));
    }
    setStreaming(false);
}

void MainWindow::setStreaming(bool streaming) {
    m_streaming = streaming;
    m_sendButton->setText(streaming ? tr("Stop") : tr("Send"));
    m_sendButton->setAccessibleName(streaming ? tr("Stop answering") : tr("Send message"));
    m_sendButton->setEnabled(streaming || !m_composer->toPlainText().trimmed().isEmpty());
}

void MainWindow::submitComposer() {
    if (m_streaming) {
        return; // the text stays in the composer until the answer is done or stopped
    }
    const QString text = m_composer->toPlainText().trimmed();
    if (text.isEmpty()) {
        return;
    }
    m_composer->clear();
    appendMessage(QStringLiteral("user"), text);
    emit sendRequested(text, mode());
}

} // namespace v4ui
