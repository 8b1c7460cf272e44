#include "ChatView.h"

#include <QClipboard>
#include <QDesktopServices>
#include <QGuiApplication>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>

namespace v4ui {

namespace {

QString plainHtml(const QString & text) {
    return text.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>"));
}

QString modeLabel(const QString & mode) { return mode.isEmpty() ? QString() : mode.left(1).toUpper() + mode.mid(1); }

} // namespace

ChatView::ChatView(QWidget * parent) : QTextBrowser(parent) {
    setObjectName(QStringLiteral("ChatView"));
    setAccessibleName(tr("Conversation"));
    setOpenLinks(false); // every anchor comes to onAnchor(): actions inside, http(s) outside
    setReadOnly(true);
    document()->setDocumentMargin(12);
    connect(this, &QTextBrowser::anchorClicked, this, &ChatView::onAnchor);
}

MarkdownStyle ChatView::style() const {
    const bool    dark = palette().color(QPalette::Base).lightness() < 128;
    MarkdownStyle s;
    if (dark) {
        s.codeBackground = QStringLiteral("#2a2e36");
        s.codeHeader     = QStringLiteral("#343842");
        s.border         = QStringLiteral("#4a4f5a");
        s.muted          = QStringLiteral("#9aa1ad");
        s.link           = QStringLiteral("#8d96f5");
    }
    return s;
}

void ChatView::changeEvent(QEvent * event) {
    QTextBrowser::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && !m_streaming) {
        setMessages(m_messages); // theme switched: redraw with the new colours
    }
}

template <typename F> void ChatView::keepingBottom(F && change) {
    QScrollBar * bar      = verticalScrollBar();
    const bool   atBottom = bar->value() >= bar->maximum() - 8;
    change();
    if (atBottom) {
        bar->setValue(bar->maximum());
    }
}

QString ChatView::thinkingHtml(qint64 id, const QString & thinking, bool expanded, bool live) {
    const MarkdownStyle s     = style();
    const int           words = static_cast<int>(thinking.split(QLatin1Char(' '), Qt::SkipEmptyParts).size());
    const QString label = live ? tr("Thinking…") : words == 1 ? tr("Thought for 1 word") : tr("Thought for %1 words").arg(words);
    QString html = QStringLiteral("<p style=\"margin-bottom:2px\"><a href=\"act:think:%1\" style=\"color:%2; text-decoration:none\">%3 %4</a></p>")
                       .arg(id)
                       .arg(s.muted, expanded ? QStringLiteral("▾") : QStringLiteral("▸"), label);
    if (expanded && live) {
        // A plain paragraph while it streams: its block is the document's last, so each new piece
        // is appended to it with insertText() instead of re-rendering the whole thinking.
        html += QStringLiteral("<p style=\"color:%1\"><i>%2</i></p>").arg(s.muted, plainHtml(thinking));
    } else if (expanded) {
        html += QStringLiteral("<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td width=\"3\" style=\"background-color:%1\"></td>"
                               "<td style=\"padding-left:10px; color:%2\"><i>%3</i></td></tr></table>")
                    .arg(s.border, s.muted, plainHtml(thinking));
    }
    return html;
}

QString ChatView::actionsHtml(const v4app::StoredMessage & m) {
    const MarkdownStyle s    = style();
    const QString       link = QStringLiteral("<a href=\"act:%1:%2\" style=\"color:%3; text-decoration:none\">%4</a>");
    QStringList         parts;
    if (m.siblingCount > 1) {
        parts << link.arg(QStringLiteral("prev")).arg(m.id).arg(s.muted, QStringLiteral("‹")) +
                     QStringLiteral(" %1/%2 ").arg(m.siblingIndex + 1).arg(m.siblingCount) +
                     link.arg(QStringLiteral("next")).arg(m.id).arg(s.muted, QStringLiteral("›"));
    }
    parts << link.arg(QStringLiteral("copy")).arg(m.id).arg(s.muted, tr("Copy"));
    if (m.role == QLatin1String("user")) {
        parts << link.arg(QStringLiteral("edit")).arg(m.id).arg(s.muted, tr("Edit"));
    } else {
        parts << link.arg(QStringLiteral("regen")).arg(m.id).arg(s.muted, tr("Regenerate"));
    }
    parts << link.arg(QStringLiteral("del")).arg(m.id).arg(s.muted, tr("Delete"));
    return QStringLiteral("<p style=\"font-size:small; color:%1\">%2</p>").arg(s.muted, parts.join(QStringLiteral(" &nbsp;·&nbsp; ")));
}

QString ChatView::messageHtml(const v4app::StoredMessage & m, bool streaming) {
    const MarkdownStyle s = style();
    if (m.role == QLatin1String("user")) {
        return QStringLiteral("<p style=\"margin-top:14px\"><b>%1</b></p>"
                              "<table width=\"100%\" cellpadding=\"10\" cellspacing=\"0\"><tr><td style=\"background-color:%2\">%3</td></tr></table>")
                   .arg(tr("You"), s.codeBackground, plainHtml(m.content)) +
               actionsHtml(m);
    }
    if (m.role != QLatin1String("assistant")) {
        return QStringLiteral("<p style=\"color:%1\"><i>%2</i></p>").arg(s.muted, plainHtml(m.content));
    }
    QString html = QStringLiteral("<p style=\"margin-top:14px\"><b>%1</b> <span style=\"color:%2; font-size:small\">&nbsp;%3</span></p>")
                       .arg(tr("V4 Chat"), s.muted, modeLabel(m.mode));
    if (streaming) {
        return html;
    }
    if (!m.thinking.isEmpty()) {
        html += thinkingHtml(m.id, m.thinking, m_expandedThinking.contains(m.id), false);
    }
    const MarkdownHtml body = renderMarkdown(m.content, s, static_cast<int>(m_codeBlocks.size()));
    m_codeBlocks += body.codeBlocks;
    html += body.html;
    QString note;
    switch (m.status) {
        case v4app::MessageStatus::Interrupted: note = tr("Interrupted: V4 Chat closed before this answer was finished."); break;
        case v4app::MessageStatus::Cancelled: note = tr("Stopped."); break;
        case v4app::MessageStatus::Failed: note = m.error.isEmpty() ? tr("The answer failed.") : m.error; break;
        default: break;
    }
    if (!note.isEmpty()) {
        html += QStringLiteral("<p style=\"color:#c2410c\">%1</p>").arg(plainHtml(note));
    }
    QStringList stats;
    if (!m.stats.model.isEmpty()) stats << m.stats.model.toHtmlEscaped();
    if (!m.mode.isEmpty()) stats << modeLabel(m.mode);
    if (m.stats.ttftMs > 0) stats << tr("TTFT %1 ms").arg(qRound(m.stats.ttftMs));
    if (m.stats.tokensPerSecond > 0) stats << tr("%1 tok/s").arg(m.stats.tokensPerSecond, 0, 'f', 1);
    if (m.stats.completionTokens > 0) {
        stats << (m.stats.promptTokens > 0 ? tr("%1 prompt + %2 tokens").arg(m.stats.promptTokens).arg(m.stats.completionTokens)
                                           : tr("%1 tokens").arg(m.stats.completionTokens));
    }
    if (!stats.isEmpty()) {
        html += QStringLiteral("<p style=\"font-size:small; color:%1\">%2</p>").arg(s.muted, stats.join(QStringLiteral(" · ")));
    }
    return html + actionsHtml(m);
}

void ChatView::setMessages(const QVector<v4app::StoredMessage> & messages, qint64 streamingId) {
    const int scroll   = verticalScrollBar()->value();
    const bool atBottom = scroll >= verticalScrollBar()->maximum() - 8;
    m_messages = messages;
    m_codeBlocks.clear();
    m_streaming = false;
    QString html;
    for (const auto & m : messages) {
        html += messageHtml(m, m.id == streamingId && streamingId != 0);
    }
    setHtml(html);
    if (streamingId != 0) {
        m_streamId = streamingId;
    }
    verticalScrollBar()->setValue(atBottom || streamingId != 0 ? verticalScrollBar()->maximum() : scroll);
}

void ChatView::appendPreview(const QString & role, const QString & text) {
    v4app::StoredMessage m;
    m.role    = role;
    m.content = text;
    QTextCursor cursor(document());
    cursor.movePosition(QTextCursor::End);
    cursor.insertHtml(QStringLiteral("<p></p>") + (role == QLatin1String("user")
                                                       ? QStringLiteral("<p><b>%1</b></p><p>%2</p>").arg(tr("You"), plainHtml(text))
                                                       : messageHtml(m, false)));
    verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void ChatView::beginStreaming() {
    m_streaming = true;
    m_streamThinking.clear();
    m_streamAnswer.clear();
    m_splitter        = {};
    m_settledRendered = 0;
    QTextCursor cursor(document());
    cursor.movePosition(QTextCursor::End);
    m_regionStart = cursor.position();
    m_tailStart   = m_regionStart;
}

void ChatView::appendThinking(const QString & text) {
    if (!m_streaming || text.isEmpty()) {
        return;
    }
    const bool first = m_streamThinking.isEmpty();
    m_streamThinking += text;
    if (!m_streamAnswer.isEmpty()) {
        return; // thinking after the answer started (unusual): kept, shown when the answer is done
    }
    keepingBottom([&] {
        if (first) {
            m_expandedThinking.insert(m_streamId); // open while it streams
            rebuildStreamRegion();
            return;
        }
        if (!m_expandedThinking.contains(m_streamId)) {
            return;
        }
        QTextCursor cursor(document());
        cursor.movePosition(QTextCursor::End);
        cursor.insertText(text); // into the italic thinking paragraph, the last block (its format carries on)
    });
}

void ChatView::appendAnswer(const QString & text) {
    if (!m_streaming || text.isEmpty()) {
        return;
    }
    const bool first = m_streamAnswer.isEmpty();
    m_streamAnswer += text;
    keepingBottom([&] {
        if (first && !m_streamThinking.isEmpty()) {
            m_expandedThinking.remove(m_streamId); // fold the thinking away once the answer starts
            rebuildStreamRegion();
            return;
        }
        renderNewlySettled();
    });
}

// Appends the newly settled blocks for good and redraws only the unfinished tail.
void ChatView::renderNewlySettled() {
    const MarkdownStyle s       = style();
    const int           settled = m_splitter.settledLength(m_streamAnswer);
    QTextCursor         cursor(document());
    cursor.setPosition(m_tailStart);
    cursor.movePosition(QTextCursor::End, QTextCursor::KeepAnchor);
    cursor.removeSelectedText();
    if (settled > m_settledRendered) {
        const MarkdownHtml block = renderMarkdown(m_streamAnswer.mid(m_settledRendered, settled - m_settledRendered), s,
                                                  static_cast<int>(m_codeBlocks.size()));
        m_codeBlocks += block.codeBlocks;
        cursor.insertHtml(block.html);
        m_settledRendered = settled;
        m_tailStart       = cursor.position();
    }
    const QString tail = m_streamAnswer.mid(m_settledRendered);
    if (!tail.isEmpty()) {
        // The tail's code blocks get numbers past the kept ones; they are copyable once settled.
        cursor.insertHtml(renderMarkdown(tail, s, static_cast<int>(m_codeBlocks.size())).html);
    }
}

void ChatView::rebuildStreamRegion() {
    QTextCursor cursor(document());
    cursor.setPosition(m_regionStart);
    cursor.movePosition(QTextCursor::End, QTextCursor::KeepAnchor);
    cursor.removeSelectedText();
    if (!m_streamThinking.isEmpty()) {
        cursor.insertHtml(thinkingHtml(m_streamId, m_streamThinking, m_expandedThinking.contains(m_streamId), m_streamAnswer.isEmpty()));
    }
    m_tailStart       = cursor.position();
    m_settledRendered = 0;
    m_splitter        = {};
    if (!m_streamAnswer.isEmpty()) {
        renderNewlySettled();
    }
}

void ChatView::toggleThinking(qint64 messageId) {
    if (m_expandedThinking.contains(messageId)) {
        m_expandedThinking.remove(messageId);
    } else {
        m_expandedThinking.insert(messageId);
    }
    if (m_streaming && messageId == m_streamId) {
        rebuildStreamRegion();
        return;
    }
    const int scroll = verticalScrollBar()->value();
    setMessages(m_messages, m_streaming ? m_streamId : 0);
    verticalScrollBar()->setValue(scroll);
}

void ChatView::onAnchor(const QUrl & url) {
    const QString scheme = url.scheme();
    if (scheme == QLatin1String("http") || scheme == QLatin1String("https") || scheme == QLatin1String("mailto")) {
        QDesktopServices::openUrl(url);
        return;
    }
    if (scheme == QLatin1String("v4cite")) {
        emit citationClicked(url);
        return;
    }
    const QString target = url.toString();
    if (target.startsWith(QLatin1String("copy-code:"))) {
        const int index = target.section(QLatin1Char(':'), 1).toInt();
        if (index >= 0 && index < m_codeBlocks.size()) {
            QGuiApplication::clipboard()->setText(m_codeBlocks.at(index));
            emit copied(tr("Code copied"));
        }
        return;
    }
    if (!target.startsWith(QLatin1String("act:"))) {
        return;
    }
    const QString action = target.section(QLatin1Char(':'), 1, 1);
    const qint64  id     = target.section(QLatin1Char(':'), 2).toLongLong();
    if (action == QLatin1String("think")) {
        toggleThinking(id);
        return;
    }
    const auto it = std::find_if(m_messages.cbegin(), m_messages.cend(), [id](const auto & m) { return m.id == id; });
    if (it == m_messages.cend()) {
        return;
    }
    if (action == QLatin1String("copy")) {
        QGuiApplication::clipboard()->setText(it->content);
        emit copied(tr("Message copied"));
    } else if (action == QLatin1String("edit")) {
        emit editRequested(id, it->content);
    } else if (action == QLatin1String("regen")) {
        emit regenerateRequested(id);
    } else if (action == QLatin1String("del")) {
        emit deleteRequested(id);
    } else if (action == QLatin1String("prev") || action == QLatin1String("next")) {
        emit siblingRequested(id, action == QLatin1String("prev") ? -1 : 1);
    }
}

} // namespace v4ui
