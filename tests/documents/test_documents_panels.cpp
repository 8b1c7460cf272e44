// DocumentsPanel and CitationPanel against a real DocumentsController: add (as the dialog and a
// drop do), progress bar, error text, tokens and pages columns, summarize, remove; citation links
// open their passage, unknown ones say why.
#include "TestFiles.h"
#include "CitationPanel.h"
#include "DocumentsPanel.h"
#include "documents/DocumentContext.h"
#include "documents/DocumentsController.h"

#include <QApplication>
#include <QLabel>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace v4app::documents;
using v4test::writeFile;
using namespace v4ui;

class TestDocumentsPanels : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void panelShowsImportsAndActs() {
        DocumentsController docs(m_dir.filePath(QStringLiteral("p.sqlite3")));
        DocumentsPanel      panel;
        panel.setController(&docs);
        panel.show();
        QVERIFY(!panel.findChild<QPushButton *>()->isEnabled()); // conversation 0: Add disabled
        panel.setConversation(21);

        QByteArray text;
        for (int i = 0; i < 400; ++i) {
            text += "Line " + QByteArray::number(i) + " of the field guide to moths and butterflies.\n\n";
        }
        QSignalSpy done(&docs, &DocumentsController::queueFinished);
        const QString guide = writeFile(m_dir, QStringLiteral("moths.md"), text);
        const QString bad   = writeFile(m_dir, QStringLiteral("bad.txt"), QByteArray("\0\1\2\3", 4));
        // Two files as a file manager drags them (plus a non-file URL, ignored). Qt delivers a
        // Drop only inside a real drag session, so the test hands the drag's data to the panel.
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(guide), QUrl(QStringLiteral("https://example.org/x.txt")), QUrl::fromLocalFile(bad)});
        QCOMPARE(DocumentsPanel::localFiles(&mime), (QStringList{guide, bad}));
        panel.addFiles(DocumentsPanel::localFiles(&mime));
        QVERIFY2(docs.isImporting(), qPrintable(panel.statusLabel()->text())); // the drop queued both files
        QVERIFY(done.wait(30000));
        QVERIFY(panel.progressBar()->isHidden());
        QCOMPARE(panel.table()->rowCount(), 1);
        QCOMPARE(panel.table()->item(0, 0)->text(), QStringLiteral("moths.md"));
        QVERIFY(panel.table()->item(0, 1)->text().endsWith(QStringLiteral("KB")));
        QVERIFY(panel.table()->item(0, 2)->text().toInt() > 0 || panel.table()->item(0, 2)->text().contains(u','));
        QCOMPARE(panel.table()->item(0, 3)->text(), QStringLiteral("–"));
        QVERIFY2(panel.statusLabel()->text().contains(QStringLiteral("“bad.txt”")), qPrintable(panel.statusLabel()->text()));

        panel.table()->selectRow(0);
        QSignalSpy summarize(&panel, &DocumentsPanel::summarizeRequested);
        for (auto * b : panel.findChildren<QPushButton *>()) {
            if (b->text() == QStringLiteral("Summarize document")) {
                b->click();
            }
        }
        QCOMPARE(summarize.size(), 1);
        QVERIFY(summarize.first().first().toString().contains(QStringLiteral("moths.md")));

        // A citation link opens the passage with file and lines.
        CitationPanel citations;
        citations.setController(&docs);
        const qint64 id    = panel.table()->item(0, 0)->data(Qt::UserRole).toLongLong();
        const qint64 chunk = docs.store()->chunks(id)->at(2).chunkId;
        QVERIFY(!citations.openCitation(QUrl(QStringLiteral("https://example.org"))));
        QVERIFY(citations.openCitation(QUrl(citationUrl(chunk))));
        QVERIFY2(citations.header()->text().contains(QStringLiteral("moths.md, lines ")), qPrintable(citations.header()->text()));
        QVERIFY(citations.text()->toPlainText().contains(QStringLiteral("field guide to moths")));

        for (auto * b : panel.findChildren<QPushButton *>()) {
            if (b->text() == QStringLiteral("Remove")) {
                b->click();
            }
        }
        QCOMPARE(panel.table()->rowCount(), 0);
        QVERIFY(citations.openCitation(QUrl(citationUrl(chunk)))); // its document is gone now
        QVERIFY(citations.header()->text().contains(QStringLiteral("no longer")));
        QVERIFY(citations.text()->toPlainText().isEmpty());
    }

    void citationLinksInAnswers() {
        ContextReport report;
        ChunkHit      a;
        a.chunkId      = 41;
        a.documentName = QStringLiteral("a.pdf");
        a.page         = 3;
        a.lineStart    = 10;
        a.lineEnd      = 24;
        ChunkHit b     = a;
        b.chunkId      = 42;
        b.page         = 0;
        report.included = {a, b};
        const QString linked = withCitationLinks(QStringLiteral("It is ochre [2], see also [7] and [link](x)."), report);
        QVERIFY2(linked.startsWith(QStringLiteral("It is ochre [[2]](v4cite:42), see also [7] and [link](x).")), qPrintable(linked));
        QVERIFY(linked.endsWith(QStringLiteral("Sources: [[2] a.pdf, lines 10–24](v4cite:42)")));
        const QString uncited = withCitationLinks(QStringLiteral("Ochre."), report);
        QVERIFY(uncited.contains(QStringLiteral("[[1] a.pdf, p. 3, lines 10–24](v4cite:41) · [[2]")));
        QCOMPARE(citedChunkId(QUrl(QStringLiteral("v4cite:42"))).value_or(0), qint64(42));
        QVERIFY(!citedChunkId(QUrl(QStringLiteral("v4cite:x"))));
        QCOMPARE(withCitationLinks(QStringLiteral("No documents [1]."), ContextReport{}), QStringLiteral("No documents [1]."));
    }
};

QTEST_MAIN(TestDocumentsPanels)
#include "test_documents_panels.moc"
