// ConversationSidebar: the list of conversations from a ConversationStore, grouped Pinned, Today,
// Yesterday, Previous 7 days, Older; a search box that matches titles and message text (FTS5)
// as you type; a context menu (and keys: F2 rename, Delete) to rename, pin, export and delete, and
// to import a conversation from JSON. Deleting is soft: deleted() carries the id so the window can
// offer "Undo".
#pragma once

#include <QTimer>
#include <QWidget>

class QLineEdit;
class QListWidget;
class QListWidgetItem;

namespace v4app {
class ConversationStore;
}

namespace v4ui {

class ConversationSidebar final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConversationSidebar)

public:
    explicit ConversationSidebar(QWidget * parent = nullptr);

    void   setStore(v4app::ConversationStore * store); // not owned; nullptr detaches
    void   setCurrent(qint64 conversationId);          // highlights without emitting selected()
    qint64 current() const { return m_current; }
    void   focusSearch();
    void   refresh();

    void renameConversation(qint64 id); // asks for the new title
    void deleteConversation(qint64 id);
    void togglePinned(qint64 id);

    // Writes the conversation's active branch as Markdown (.md) or, for any other name, the JSON
    // that importConversation() reads back (all branches). Atomic: a failed write (disk full)
    // leaves no half file and reports through problem(). Returns whether the file was written.
    bool exportConversation(qint64 id, const QString & path);
    // Adds the conversation in a JSON export as a new conversation and selects it.
    bool importConversation(const QString & path);

    QListWidget * list() const { return m_list; }
    QLineEdit *   searchBox() const { return m_search; }

signals:
    void selected(qint64 conversationId);
    void newChatRequested();
    void setupRequested();
    void deleted(qint64 conversationId, const QString & title);
    void problem(const QString & message);

private:
    void fillList();
    void fillSearch(const QString & text);
    void addHeader(const QString & text);
    void showMenu(const QPoint & pos);
    bool eventFilter(QObject * watched, QEvent * event) override;

    v4app::ConversationStore * m_store = nullptr;
    QLineEdit *                m_search = nullptr;
    QListWidget *              m_list = nullptr;
    QTimer                     m_searchDelay;
    qint64                     m_current = 0;
    bool                       m_filling = false;
};

} // namespace v4ui
