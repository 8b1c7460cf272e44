// CitationPanel: the passage behind a citation link (v4cite:<chunk id>) in an answer: file, page
// and lines above the passage text. Presentation only; the passage comes from DocumentsController.
#pragma once

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QUrl;

namespace v4app::documents {
class DocumentsController;
struct ChunkHit;
}

namespace v4ui {

class CitationPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CitationPanel)

public:
    explicit CitationPanel(QWidget * parent = nullptr);

    void setController(v4app::documents::DocumentsController * controller); // not owned; may be null
    // True when `url` is a citation link (then the panel shows it, or why it cannot).
    bool openCitation(const QUrl & url);
    void showPassage(const v4app::documents::ChunkHit & passage);

    QLabel *         header() const { return m_header; }
    QPlainTextEdit * text() const { return m_text; }

signals:
    void passageShown(); // the dock holding the panel raises itself

private:
    v4app::documents::DocumentsController * m_controller = nullptr;
    QLabel *                                m_header     = nullptr;
    QPlainTextEdit *                        m_text       = nullptr;
};

} // namespace v4ui
