#include "DocumentsPanel.h"

#include "documents/DocumentsController.h"

#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

using v4app::documents::DocumentsController;

namespace v4ui {

QString formatFileSize(qint64 bytes) {
    const QLocale l;
    if (bytes < 1000) {
        return QStringLiteral("%1 bytes").arg(bytes);
    }
    if (bytes < 1000 * 1000) {
        return QStringLiteral("%1 KB").arg(l.toString(double(bytes) / 1e3, 'f', 0));
    }
    return QStringLiteral("%1 MB").arg(l.toString(double(bytes) / 1e6, 'f', 1));
}

DocumentsPanel::DocumentsPanel(QWidget * parent) : QWidget(parent) {
    setAcceptDrops(true);
    auto * layout = new QVBoxLayout(this);
    auto * hint   = new QLabel(tr("Drop files here or add them: text, Markdown, code, HTML, PDF."), this);
    hint->setWordWrap(true);
    layout->addWidget(hint);

    m_table = new QTableWidget(0, 4, this);
    m_table->setHorizontalHeaderLabels({tr("Name"), tr("Size"), tr("Tokens"), tr("Pages")});
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    layout->addWidget(m_table, 1);

    auto * buttons = new QHBoxLayout;
    m_add          = new QPushButton(tr("Add…"), this);
    m_remove       = new QPushButton(tr("Remove"), this);
    m_summarize    = new QPushButton(tr("Summarize document"), this);
    buttons->addWidget(m_add);
    buttons->addWidget(m_remove);
    buttons->addStretch();
    buttons->addWidget(m_summarize);
    layout->addLayout(buttons);

    auto * importing = new QHBoxLayout;
    m_progress       = new QProgressBar(this);
    m_cancel         = new QPushButton(tr("Cancel"), this);
    importing->addWidget(m_progress, 1);
    importing->addWidget(m_cancel);
    layout->addLayout(importing);
    m_progress->hide();
    m_cancel->hide();

    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);

    connect(m_add, &QPushButton::clicked, this, &DocumentsPanel::chooseFiles);
    connect(m_remove, &QPushButton::clicked, this, &DocumentsPanel::removeSelected);
    connect(m_summarize, &QPushButton::clicked, this, &DocumentsPanel::summarizeSelected);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_controller) {
            m_controller->cancelImports();
        }
    });
    connect(m_table, &QTableWidget::itemSelectionChanged, this, &DocumentsPanel::updateButtons);
    updateButtons();
}

void DocumentsPanel::setController(DocumentsController * controller) {
    for (const auto & c : m_connections) {
        disconnect(c);
    }
    m_connections.clear();
    m_controller = controller;
    if (controller) {
        if (!controller->isOpen()) {
            m_status->setText(controller->openError());
        }
        m_connections << connect(controller, &DocumentsController::importStarted, this, [this](qint64, const QString & path) {
            m_progress->show();
            m_cancel->show();
            m_progress->setRange(0, 0); // busy until the chunk count is known
            m_progress->setFormat(QFileInfo(path).fileName());
            m_status->clear();
        });
        m_connections << connect(controller, &DocumentsController::importProgress, this,
                                 [this](qint64, const QString & path, qint64 done, qint64 total) {
                                     m_progress->setRange(0, total > 0 ? 1000 : 0);
                                     m_progress->setValue(total > 0 ? int(1000 * done / total) : 0);
                                     m_progress->setFormat(QFileInfo(path).fileName() + QStringLiteral(" %p%"));
                                 });
        m_connections << connect(controller, &DocumentsController::importFailed, this,
                                 [this](qint64, const QString &, const QString & message, bool cancelled) {
                                     m_status->setText(cancelled ? tr("Import cancelled; nothing was stored.") : message);
                                 });
        m_connections << connect(controller, &DocumentsController::queueFinished, this, [this] {
            m_progress->hide();
            m_cancel->hide();
        });
        m_connections << connect(controller, &DocumentsController::documentsChanged, this, [this](qint64 id) {
            if (id == m_conversationId) {
                refresh();
            }
        });
    }
    refresh();
}

void DocumentsPanel::setConversation(qint64 conversationId) {
    m_conversationId = conversationId;
    m_status->clear();
    refresh();
}

void DocumentsPanel::addFiles(const QStringList & paths) {
    if (!m_controller || m_conversationId <= 0 || paths.isEmpty()) {
        return;
    }
    m_controller->importFiles(m_conversationId, paths);
}

void DocumentsPanel::dragEnterEvent(QDragEnterEvent * event) {
    if (event->mimeData()->hasUrls() && m_controller && m_conversationId > 0) {
        event->acceptProposedAction();
    }
}

QStringList DocumentsPanel::localFiles(const QMimeData * mime) {
    QStringList paths;
    for (const QUrl & url : mime->urls()) {
        if (url.isLocalFile()) {
            paths.append(url.toLocalFile());
        }
    }
    return paths;
}

void DocumentsPanel::dropEvent(QDropEvent * event) {
    addFiles(localFiles(event->mimeData()));
    event->acceptProposedAction();
}

void DocumentsPanel::refresh() {
    m_table->setRowCount(0);
    if (m_controller && m_conversationId > 0) {
        const QLocale l;
        for (const auto & row : m_controller->documents(m_conversationId)) {
            const int r = m_table->rowCount();
            m_table->insertRow(r);
            auto * name = new QTableWidgetItem(row.info.name);
            name->setData(Qt::UserRole, row.info.id);
            name->setToolTip(row.info.onDisk ? row.info.path
                                             : tr("%1\nThe original file is gone; the imported text is still used.").arg(row.info.path));
            m_table->setItem(r, 0, name);
            m_table->setItem(r, 1, new QTableWidgetItem(formatFileSize(row.info.size)));
            m_table->setItem(r, 2, new QTableWidgetItem(row.tokens >= 0 ? l.toString(row.tokens) : tr("counting…")));
            m_table->setItem(r, 3, new QTableWidgetItem(row.info.pages > 0 ? QString::number(row.info.pages) : QStringLiteral("–")));
        }
    }
    updateButtons();
}

void DocumentsPanel::updateButtons() {
    const bool usable = m_controller && m_controller->isOpen() && m_conversationId > 0;
    m_add->setEnabled(usable);
    m_add->setToolTip(usable ? QString() : tr("Send a first message, then attach documents to the conversation."));
    m_remove->setEnabled(usable && selectedDocument() > 0);
    m_summarize->setEnabled(usable && selectedDocument() > 0);
}

void DocumentsPanel::chooseFiles() {
    const QStringList paths = QFileDialog::getOpenFileNames(
        this, tr("Add documents"), QString(),
        tr("Documents (*.txt *.md *.pdf *.html *.htm *.c *.cpp *.h *.py *.rs *.go *.js *.ts *.java *.json);;All files (*)"));
    addFiles(paths);
}

qint64 DocumentsPanel::selectedDocument() const {
    const auto rows = m_table->selectionModel() ? m_table->selectionModel()->selectedRows() : QModelIndexList();
    return rows.isEmpty() ? 0 : m_table->item(rows.first().row(), 0)->data(Qt::UserRole).toLongLong();
}

void DocumentsPanel::removeSelected() {
    const qint64 id = selectedDocument();
    if (id <= 0 || !m_controller) {
        return;
    }
    if (auto s = m_controller->removeDocument(m_conversationId, id); !s) {
        m_status->setText(s.error().message);
    }
}

void DocumentsPanel::summarizeSelected() {
    const qint64 id = selectedDocument();
    if (id > 0 && m_controller) {
        emit summarizeRequested(m_controller->summarizeRequest(id));
    }
}

} // namespace v4ui
