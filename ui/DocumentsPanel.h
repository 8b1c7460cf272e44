// DocumentsPanel: the documents of the open conversation (name, size, tokens, pages), with Add…
// (file dialog), drag-and-drop of files onto the panel, Remove, "Summarize document", and a
// cancellable progress bar while files import. Presentation only: DocumentsController does the work
// on its worker thread; the panel shows its signals. "Summarize" comes out as summarizeRequested()
// with the message to send.
#pragma once

#include <QWidget>

class QLabel;
class QMimeData;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace v4app::documents {
class DocumentsController;
}

namespace v4ui {

class DocumentsPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DocumentsPanel)

public:
    explicit DocumentsPanel(QWidget * parent = nullptr);

    void setController(v4app::documents::DocumentsController * controller); // not owned; may be null
    // The conversation whose documents are shown (0: a new chat that is not stored yet: adding is
    // disabled until it is).
    void   setConversation(qint64 conversationId);
    qint64 conversation() const { return m_conversationId; }
    void   addFiles(const QStringList & paths); // what the dialog and a drop do
    // The local files of a drag (dropEvent() passes them to addFiles()).
    static QStringList localFiles(const QMimeData * mime);

    QTableWidget * table() const { return m_table; }
    QProgressBar * progressBar() const { return m_progress; }
    QLabel *       statusLabel() const { return m_status; }

signals:
    void summarizeRequested(const QString & message);

protected:
    void dragEnterEvent(QDragEnterEvent * event) override;
    void dropEvent(QDropEvent * event) override;

private:
    void refresh();
    void updateButtons();
    void chooseFiles();
    void removeSelected();
    void summarizeSelected();
    qint64 selectedDocument() const;

    v4app::documents::DocumentsController * m_controller = nullptr;
    qint64                                  m_conversationId = 0;
    QTableWidget *                          m_table    = nullptr;
    QPushButton *                           m_add      = nullptr;
    QPushButton *                           m_remove   = nullptr;
    QPushButton *                           m_summarize = nullptr;
    QProgressBar *                          m_progress = nullptr;
    QPushButton *                           m_cancel   = nullptr;
    QLabel *                                m_status   = nullptr;
    QList<QMetaObject::Connection>          m_connections;
};

// "1.2 MB", "340 KB", "812 bytes"
QString formatFileSize(qint64 bytes);

} // namespace v4ui
