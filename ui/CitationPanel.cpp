#include "CitationPanel.h"

#include "documents/DocumentContext.h"
#include "documents/DocumentsController.h"

#include <QLabel>
#include <QPlainTextEdit>
#include <QUrl>
#include <QVBoxLayout>

namespace v4ui {

CitationPanel::CitationPanel(QWidget * parent) : QWidget(parent) {
    auto * layout = new QVBoxLayout(this);
    m_header      = new QLabel(tr("Click a citation in an answer to see its passage here."), this);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text = new QPlainTextEdit(this);
    m_text->setReadOnly(true);
    layout->addWidget(m_header);
    layout->addWidget(m_text, 1);
}

void CitationPanel::setController(v4app::documents::DocumentsController * controller) {
    m_controller = controller;
}

bool CitationPanel::openCitation(const QUrl & url) {
    const auto chunkId = v4app::documents::citedChunkId(url);
    if (!chunkId) {
        return false;
    }
    if (!m_controller) {
        m_header->setText(tr("Documents are not available."));
        m_text->clear();
        return true;
    }
    auto passage = m_controller->passage(*chunkId);
    if (!passage) {
        m_header->setText(passage.error().message);
        m_text->clear();
    } else {
        showPassage(passage.value());
    }
    emit passageShown();
    return true;
}

void CitationPanel::showPassage(const v4app::documents::ChunkHit & passage) {
    m_header->setText(QStringLiteral("<b>%1</b>").arg(passage.citation().toHtmlEscaped()));
    m_text->setPlainText(passage.text);
}

} // namespace v4ui
