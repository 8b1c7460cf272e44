// ChatView: the messages of the active branch, rendered from Markdown into a QTextBrowser, with
// per-message actions (copy, edit, regenerate, delete, "‹ 1/2 ›" paging through branches), a
// collapsible "Thinking" section above each answer and a footer with the answer's stats.
//
// Streaming is incremental: the finished messages are rendered once (setMessages); the answer that
// streams is appended at the end of the document. Text up to the last block boundary is rendered
// once; only the unfinished block at the end is replaced per batch, so a long answer costs O(n),
// not O(n²). Thinking streams expanded and folds away when the answer starts.
//
// Actions come out as signals carrying message ids; the view never changes the data itself.
#pragma once

#include <QSet>
#include <QTextBrowser>

#include "MarkdownRenderer.h"
#include "storage/ConversationStore.h"

namespace v4ui {

class ChatView final : public QTextBrowser {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatView)

public:
    explicit ChatView(QWidget * parent = nullptr);

    // Redraws everything. `streamingId`: the last message is the answer now streaming (rendered
    // with its header only; beginStreaming() takes over from there).
    void setMessages(const QVector<v4app::StoredMessage> & messages, qint64 streamingId = 0);
    void appendPreview(const QString & role, const QString & text); // shown before the store confirms

    void beginStreaming();
    void appendThinking(const QString & text);
    void appendAnswer(const QString & text);
    bool isStreaming() const { return m_streaming; }
    QString streamedAnswer() const { return m_streamAnswer; }

    bool isThinkingExpanded(qint64 messageId) const { return m_expandedThinking.contains(messageId); }
    void toggleThinking(qint64 messageId);
    int  codeBlockCount() const { return static_cast<int>(m_codeBlocks.size()); }

signals:
    void copied(const QString & what); // for a "Copied" toast
    void editRequested(qint64 messageId, const QString & text);
    void regenerateRequested(qint64 messageId);
    void deleteRequested(qint64 messageId);
    void siblingRequested(qint64 messageId, int step);
    void citationClicked(const QUrl & url); // a v4cite: link in an answer (CitationPanel opens it)

protected:
    void changeEvent(QEvent * event) override;

private:
    void          onAnchor(const QUrl & url);
    QString       messageHtml(const v4app::StoredMessage & message, bool streaming);
    QString       thinkingHtml(qint64 id, const QString & thinking, bool expanded, bool live);
    QString       actionsHtml(const v4app::StoredMessage & message);
    MarkdownStyle style() const;
    void          rebuildStreamRegion();
    void          renderNewlySettled();
    template <typename F> void keepingBottom(F && change);

    QVector<v4app::StoredMessage> m_messages;
    QStringList                   m_codeBlocks;
    QSet<qint64>                  m_expandedThinking;

    // The answer being streamed.
    bool                   m_streaming = false;
    qint64                 m_streamId  = 0;
    QString                m_streamThinking;
    QString                m_streamAnswer;
    MarkdownStreamSplitter m_splitter;
    int                    m_settledRendered = 0; // chars of m_streamAnswer rendered for good
    int                    m_regionStart = 0;     // document position where the streamed part begins
    int                    m_tailStart   = 0;     // where the unfinished block begins
};

} // namespace v4ui
