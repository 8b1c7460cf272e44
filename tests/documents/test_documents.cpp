// Documents: importers on small generated inputs, chunk offsets, encodings, binary/size/corrupt-PDF
// refusals, DocumentStore dedupe, FTS5 BM25 order, budgeted context assembly, attachments, cancel,
// and kill -9 during an import (documents_writer).
#include "TestFiles.h"
#include "documents/DocumentStore.h"
#include "documents/TextDecoding.h"

#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QPainter>
#include <QPdfWriter>
#include <QProcess>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

using namespace v4app;
using namespace v4app::documents;
using v4test::writeFile;

namespace {

QByteArray paragraphs(int count, const char * word = "alpha") {
    QByteArray out;
    for (int i = 0; i < count; ++i) {
        out += QByteArray("Paragraph ") + QByteArray::number(i) + " says " + word +
               " and then some filler words to make it longer than a line of text usually is.\n";
        out += "A second line of the same paragraph.\n\n";
    }
    return out;
}

// Checks the chunk invariants against the UTF-8 text the chunks were cut from.
void checkChunks(const QList<Chunk> & chunks, const QByteArray & utf8, qint64 shift = 0) {
    QVERIFY(!chunks.isEmpty());
    qint64 previousEnd = shift;
    for (const Chunk & c : chunks) {
        QVERIFY2(c.byteEnd - c.byteStart <= 2048, qPrintable(QString::number(c.byteEnd - c.byteStart)));
        QVERIFY(c.byteStart >= previousEnd);
        const QByteArray slice = utf8.mid(c.byteStart - shift, c.byteEnd - c.byteStart);
        QCOMPARE(c.text.toUtf8(), slice);
        QCOMPARE(c.lineStart, int(utf8.left(c.byteStart - shift).count('\n')) + 1);
        QVERIFY(c.lineEnd >= c.lineStart);
        previousEnd = c.byteEnd;
    }
}

class SlowCounter final : public TokenCounter {
public:
    QString     fingerprint() const override { return QStringLiteral("test-words"); }
    int         count(const QString & text) const override {
        ++calls;
        return int(text.split(u' ', Qt::SkipEmptyParts).size());
    }
    mutable int calls = 0;
};

} // namespace

class TestDocuments : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::unique_ptr<DocumentStore> openStore(const QString & name = QStringLiteral("documents.sqlite3")) {
        auto store = DocumentStore::open(m_dir.filePath(name));
        if (!store) {
            qWarning() << store.error().message;
            return nullptr;
        }
        return std::move(store.value());
    }

    // A PDF with one distinctive word per page, drawn with QPdfWriter (needs a font).
    QString makePdf(const QString & name, const QStringList & pageTexts) {
        const QString path = m_dir.filePath(name);
        QPdfWriter    writer(path);
        QPainter      painter(&writer);
        QFont         font = painter.font();
        font.setPointSize(14);
        painter.setFont(font);
        for (qsizetype i = 0; i < pageTexts.size(); ++i) {
            if (i > 0) {
                writer.newPage();
            }
            painter.drawText(QRect(200, 200, 8000, 2000), Qt::AlignLeft | Qt::TextWordWrap, pageTexts[i]);
        }
        painter.end();
        return path;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void plainTextChunksOnParagraphs() {
        const QByteArray text = paragraphs(100);
        const QString    path = writeFile(m_dir, QStringLiteral("plain.txt"), text);
        auto             doc  = importFile(path);
        QVERIFY2(doc, doc ? "" : qPrintable(doc.error().message));
        QCOMPARE(doc->mime, QStringLiteral("text/plain"));
        QCOMPARE(doc->encoding, QStringLiteral("UTF-8"));
        QCOMPARE(doc->size, qint64(text.size()));
        QCOMPARE(doc->pages, 0);
        checkChunks(doc->chunks, text);
        QVERIFY(doc->chunks.size() > 3);
        // Every chunk except the last ends on a paragraph boundary, and nothing is lost.
        QByteArray joined;
        for (const Chunk & c : doc->chunks) {
            joined += c.text.toUtf8();
            QVERIFY(c.byteEnd - c.byteStart >= 1024 || &c == &doc->chunks.last());
        }
        QCOMPARE(joined, text);
        for (qsizetype i = 0; i + 1 < doc->chunks.size(); ++i) {
            QVERIFY(doc->chunks[i].text.endsWith(QStringLiteral("\n\n")));
        }
    }

    void longParagraphIsSplitOnCodePoints() {
        QByteArray text;
        for (int i = 0; i < 3000; ++i) {
            text += "ü"; // 2 bytes, no spaces or newlines: a forced cut must not split it
        }
        auto chunks = chunkText(text);
        checkChunks(chunks, text);
        QVERIFY(chunks.size() >= 3);
    }

    // Random mixes of short words, multi-byte characters, blank lines, CR, form feeds and very long
    // words: the invariants hold and only whitespace is ever dropped. Also feeds the HTML stripper
    // random markup fragments (it must not crash or loop).
    void randomInputsKeepInvariants() {
        QRandomGenerator rng(1234);
        const QList<QByteArray> pieces = {"a", "word ", "\xC3\xBC", "\xE4\xB8\xAD", " ", "\n", "\n\n", "\r\n", "\f",
                                          "\n \t\n", QByteArray(700, 'z'), QByteArray(2500, 'y')};
        for (int round = 0; round < 200; ++round) {
            QByteArray text;
            const int  n = int(rng.bounded(1, 400));
            for (int i = 0; i < n; ++i) {
                text += pieces[rng.bounded(int(pieces.size()))];
            }
            QList<qint64> pages;
            if (round % 3 == 0) { // page breaks on line starts, as the PDF importer makes them
                pages.append(0);
                for (qsizetype at = text.indexOf('\n', 500); at >= 0 && at + 1 < text.size(); at = text.indexOf('\n', at + 800)) {
                    pages.append(at + 1);
                }
            }
            const QList<Chunk> chunks = chunkText(text, pages);
            qint64             covered = 0;
            QByteArray         nonSpace;
            for (const Chunk & c : chunks) {
                QVERIFY(c.byteEnd - c.byteStart <= 2048);
                QVERIFY(c.byteStart >= covered);
                QVERIFY(std::all_of(text.cbegin() + covered, text.cbegin() + c.byteStart,
                                    [](char ch) { return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t' || ch == '\f'; }));
                QCOMPARE(c.text.toUtf8(), text.mid(c.byteStart, c.byteEnd - c.byteStart));
                QCOMPARE(c.lineStart, int(text.left(c.byteStart).count('\n')) + 1);
                covered = c.byteEnd;
            }
            QVERIFY(std::all_of(text.cbegin() + covered, text.cend(),
                                [](char ch) { return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t' || ch == '\f'; }));
        }
        const QStringList markup = {"<", ">", "&", ";", "&amp;", "&#", "&#x110000;", "<p>", "</p>", "<script>",
                                    "</script", "<!--", "-->", "<pre>", "</pre>", "text", " ", "\n", "<head>",
                                    "<title>", "</title>", "</head>", "<br/>", "&nbsp;", "<style", "ü"};
        for (int round = 0; round < 300; ++round) {
            QString html;
            for (int i = 0, n = int(rng.bounded(1, 60)); i < n; ++i) {
                html += markup[rng.bounded(int(markup.size()))];
            }
            const QString text = htmlToText(html);
            QVERIFY(text.size() <= html.size() + 2);
        }
    }

    void markdownAndCodeByExtension() {
        auto md = importFile(writeFile(m_dir, QStringLiteral("readme.md"), "# Title\n\nSome *markdown* text.\n"));
        QVERIFY(md);
        QCOMPARE(md->mime, QStringLiteral("text/markdown"));
        QCOMPARE(md->format, Format::Markdown);
        QVERIFY(md->chunks.first().text.contains(QStringLiteral("*markdown*")));
        auto py = importFile(writeFile(m_dir, QStringLiteral("tool.py"), "def main():\n    return 42\n"));
        QVERIFY(py);
        QCOMPARE(py->mime, QStringLiteral("text/x-python"));
        QCOMPARE(py->format, Format::SourceCode);
        auto cpp = importFile(writeFile(m_dir, QStringLiteral("a.CPP"), "int main() { return 0; }\n"));
        QVERIFY(cpp);
        QCOMPARE(cpp->mime, QStringLiteral("text/x-c++"));
        QCOMPARE(cpp->chunks.first().lineStart, 1);
        QCOMPARE(cpp->chunks.first().lineEnd, 1);
    }

    void htmlTextOnly() {
        const QByteArray html = "<!DOCTYPE html><html><head><title>The Page</title><style>p { color: red; }</style>"
                                "<script>var hidden = 'secret';</script></head><body>"
                                "<h1>Heading &amp; more</h1><p>Caf&eacute; &lt;tag&gt; &#233;&#x4E2D;&nbsp;x"
                                "<!-- a comment --></p><script type=\"text/javascript\">alert(1)</script>"
                                "<ul><li>one</li><li>two</li></ul><pre>a  b\n  c</pre>A &unknown; &amp</body></html>";
        auto             doc  = importFile(writeFile(m_dir, QStringLiteral("page.html"), html));
        QVERIFY2(doc, doc ? "" : qPrintable(doc.error().message));
        QCOMPARE(doc->mime, QStringLiteral("text/html"));
        QString all;
        for (const Chunk & c : doc->chunks) {
            all += c.text;
        }
        QVERIFY(all.contains(QStringLiteral("The Page")));
        QVERIFY(all.contains(QStringLiteral("Heading & more")));
        QVERIFY(all.contains(QStringLiteral("Café <tag> é中 x")));
        QVERIFY(all.contains(QStringLiteral("one\ntwo")));
        QVERIFY(all.contains(QStringLiteral("a  b\n  c")));
        QVERIFY(all.contains(QStringLiteral("A &unknown; &amp")));
        QVERIFY(!all.contains(QStringLiteral("secret")));
        QVERIFY(!all.contains(QStringLiteral("alert")));
        QVERIFY(!all.contains(QStringLiteral("color")));
        QVERIFY(!all.contains(QStringLiteral("comment")));
        QVERIFY(!all.contains(u'<' + QStringLiteral("p>")));
    }

    void encodings() {
        // UTF-16LE with BOM
        const QString text = QStringLiteral("Grüße, 世界\n\nSecond paragraph.\n");
        QByteArray    utf16("\xFF\xFE", 2);
        utf16.append(reinterpret_cast<const char *>(text.utf16()), text.size() * 2);
        auto le = importFile(writeFile(m_dir, QStringLiteral("u16.txt"), utf16));
        QVERIFY2(le, le ? "" : qPrintable(le.error().message));
        QCOMPARE(le->encoding, QStringLiteral("UTF-16LE"));
        QCOMPARE(le->chunks.first().text, text);

        // UTF-8 with BOM: offsets are file offsets
        auto bom = importFile(writeFile(m_dir, QStringLiteral("bom.txt"), "\xEF\xBB\xBFhello bom\n"));
        QVERIFY(bom);
        QCOMPARE(bom->encoding, QStringLiteral("UTF-8 (BOM)"));
        QCOMPARE(bom->chunks.first().byteStart, qint64(3));
        QCOMPARE(bom->chunks.first().text, QStringLiteral("hello bom\n"));

        // Invalid UTF-8 (a Latin-1 é, a truncated sequence, an overlong '/', a surrogate) → Latin-1
        auto latin = importFile(writeFile(m_dir, QStringLiteral("latin1.txt"), "caf\xE9 cr\xE8me\n"));
        QVERIFY(latin);
        QCOMPARE(latin->encoding, QStringLiteral("Latin-1"));
        QCOMPARE(latin->chunks.first().text, QStringLiteral("café crème\n"));
        auto cp1252 = importFile(writeFile(m_dir, QStringLiteral("cp1252.txt"), "\x93quoted\x94 \x96 5\x80\n"));
        QVERIFY(cp1252);
        QCOMPARE(cp1252->encoding, QStringLiteral("Windows-1252"));
        QCOMPARE(cp1252->chunks.first().text, QStringLiteral("“quoted” – 5€\n"));
        QVERIFY(!isValidUtf8("\xC0\xAF", 2));
        QVERIFY(!isValidUtf8("\xED\xA0\x80", 3));
        QVERIFY(!isValidUtf8("ab\xE4\xB8", 4));
        QVERIFY(!isValidUtf8("\xF4\x90\x80\x80", 4));
        QVERIFY(isValidUtf8("\xF0\x9F\x98\x80 \xE4\xB8\xAD", 8));
    }

    void refusals() {
        QByteArray binary = "ELF";
        binary.append('\0');
        binary.append(QByteArray(100, 'x'));
        auto bin = importFile(writeFile(m_dir, QStringLiteral("prog.txt"), binary));
        QVERIFY(!bin);
        QVERIFY2(bin.error().message.contains(QStringLiteral("looks like a binary file")), qPrintable(bin.error().message));

        ImportOptions small;
        small.maxBytes = 1024;
        auto big       = importFile(writeFile(m_dir, QStringLiteral("big.txt"), QByteArray(4096, 'a')), small);
        QVERIFY(!big);
        QVERIFY2(big.error().message.contains(QStringLiteral("at most")), qPrintable(big.error().message));

        auto missing = importFile(m_dir.filePath(QStringLiteral("nope.txt")));
        QVERIFY(!missing);
        QCOMPARE(missing.error().kind, StorageError::Kind::NotFound);

        auto empty = importFile(writeFile(m_dir, QStringLiteral("empty.txt"), "\n\n  \n"));
        QVERIFY(!empty);
        QVERIFY(empty.error().message.contains(QStringLiteral("empty")));

        auto corrupt = importFile(writeFile(m_dir, QStringLiteral("broken.pdf"), "%PDF-1.4\n1 0 obj garbage\n%%EOF"));
        QVERIFY(!corrupt);
        QVERIFY2(corrupt.error().message.contains(QStringLiteral("could not be read as a PDF")),
                 qPrintable(corrupt.error().message));
        // Not a PDF at all, but named .pdf
        auto fake = importFile(writeFile(m_dir, QStringLiteral("fake.pdf"), "just text"));
        QVERIFY(!fake);
        QVERIFY(fake.error().message.contains(QStringLiteral("PDF")));
    }

    // Bad input from the issue: a 2 GB file (sparse: refused by size before a byte is read), a real
    // executable renamed .txt, and a document whose file is deleted after import.
    void badInputIsRefusedOrSurvived() {
        auto store = openStore(QStringLiteral("bad-input.sqlite3"));
        QVERIFY(store);
        const QString huge = m_dir.filePath(QStringLiteral("huge.txt"));
        {
            QFile f(huge);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QVERIFY(f.resize(qint64(2) << 30)); // sparse: no disk space, and never read
        }
        auto refused = store->importFile(huge);
        QVERIFY(!refused);
        QVERIFY2(refused.error().message.contains(QStringLiteral("is 2048 MB; documents can be at most 512 MB")),
                 qPrintable(refused.error().message));
        QFile::remove(huge);

        const QString ls = m_dir.filePath(QStringLiteral("ls.txt"));
        QVERIFY(QFile::copy(QStringLiteral("/bin/ls"), ls));
        auto binary = store->importFile(ls);
        QVERIFY(!binary);
        QVERIFY2(binary.error().message.contains(QStringLiteral("“ls.txt” looks like a binary file")),
                 qPrintable(binary.error().message));
        QCOMPARE(store->db().queryInt(QStringLiteral("SELECT count(*) FROM documents")).value(), qint64(0));

        const QString gone = writeFile(m_dir, QStringLiteral("gone.md"), paragraphs(10, "vanishing"));
        auto          kept = store->importFile(gone);
        QVERIFY(kept);
        QVERIFY(store->document(kept->documentId)->onDisk);
        QVERIFY(QFile::remove(gone));
        auto info = store->document(kept->documentId);
        QVERIFY(info);
        QVERIFY(!info->onDisk); // the panel says the original is gone ...
        QCOMPARE(store->search(QStringLiteral("vanishing"), 20)->size(), info->chunkCount); // ... and its text still answers
        auto again = store->importFile(gone);
        QVERIFY(!again);
        QCOMPARE(again.error().kind, StorageError::Kind::NotFound);
        QVERIFY2(again.error().message.contains(QStringLiteral("does not exist")), qPrintable(again.error().message));
    }

    void pdfPagesAreKept() {
        const QString path = makePdf(QStringLiteral("three.pdf"), {QStringLiteral("First page talks about aardvark."),
                                                                   QStringLiteral("Second page talks about bumblebee."),
                                                                   QStringLiteral("Third page talks about chameleon.")});
        auto          doc  = importFile(path);
        if (!doc && doc.error().message.contains(QStringLiteral("no text"))) {
            QSKIP("QPdfWriter drew no text (no fonts available)");
        }
        QVERIFY2(doc, doc ? "" : qPrintable(doc.error().message));
        QCOMPARE(doc->mime, QStringLiteral("application/pdf"));
        QCOMPARE(doc->pages, 3);
        QCOMPARE(doc->chunks.size(), 3); // one per page: chunks never span pages
        QCOMPARE(doc->chunks[1].page, 2);
        QVERIFY(doc->chunks[1].text.contains(QStringLiteral("bumblebee")));
        QCOMPARE(doc->chunks[2].page, 3);

        // A PDF cut in half is refused or at worst yields fewer pages, never a crash.
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        auto cut = importFile(writeFile(m_dir, QStringLiteral("cut.pdf"), bytes.left(bytes.size() / 3)));
        if (cut) {
            QVERIFY(cut->pages <= 3);
        } else {
            QVERIFY(cut.error().message.contains(QStringLiteral("PDF")));
        }

        // Cancel while the pages are extracted: nothing stored.
        {
            auto store = openStore(QStringLiteral("pdf-cancel.sqlite3"));
            QVERIFY(store);
            int  calls  = 0;
            auto result = store->importFile(path, [&calls](qint64, qint64) { return ++calls < 3; });
            QVERIFY(!result);
            QVERIFY(DocumentStore::isCancellation(result.error()));
            QCOMPARE(calls, 3); // once before reading, then pages 1 and 2
            QVERIFY(store->documents()->isEmpty());
        }

        // Through the store: search cites the page.
        auto store = openStore(QStringLiteral("pdf.sqlite3"));
        QVERIFY(store);
        QVERIFY(store->importFile(path));
        auto hits = store->search(QStringLiteral("bumblebee"), 5);
        QVERIFY(hits);
        QCOMPARE(hits->size(), 1);
        QCOMPARE(hits->first().page, 2);
        QVERIFY(hits->first().citation().startsWith(QStringLiteral("three.pdf, p. 2, line")));
    }

    // Acceptance 1: a 300-page PDF imports with its pages; a sentence known to be on page 217 is cited there.
    void threeHundredPagePdf() {
        QStringList pages;
        for (int p = 1; p <= 300; ++p) {
            // Short enough for makePdf's text box (longer text would be clipped, not wrapped onto a page).
            QString text = QStringLiteral("Chapter %1. ").arg(p);
            if (p == 217) {
                text += QStringLiteral("The quartermaster hid the silver compass beneath the chapel floor. ");
            }
            for (int s = 0; s < 4; ++s) {
                text += QStringLiteral("It was the best of times, it was the worst of times, sentence %1 of page %2. ").arg(s).arg(p);
            }
            pages.append(text);
        }
        const QString path = makePdf(QStringLiteral("long-book.pdf"), pages);
        auto          store = openStore(QStringLiteral("long-pdf.sqlite3"));
        QVERIFY(store);
        QElapsedTimer timer;
        timer.start();
        auto imported = store->importFile(path);
        if (!imported && imported.error().message.contains(QStringLiteral("no text"))) {
            QSKIP("QPdfWriter drew no text (no fonts available)");
        }
        QVERIFY2(imported, imported ? "" : qPrintable(imported.error().message));
        qInfo() << "300-page PDF:" << QFileInfo(path).size() / 1024 << "KiB," << imported->chunkCount << "chunks, imported in"
                << timer.elapsed() << "ms";
        QCOMPARE(store->document(imported->documentId)->pages, 300);
        auto hits = store->search(QStringLiteral("quartermaster silver compass chapel"), 3);
        QVERIFY(hits && !hits->isEmpty());
        QCOMPARE(hits->first().page, 217);
        QVERIFY(hits->first().text.contains(QStringLiteral("The quartermaster hid the silver compass")));
        QVERIFY2(hits->first().citation().startsWith(QStringLiteral("long-book.pdf, p. 217, line")),
                 qPrintable(hits->first().citation()));
        auto chapter = store->search(QStringLiteral("Chapter 123."), 1);
        QCOMPARE(chapter->first().page, 123);
    }

    void encryptedPdfRefused() {
        // Ghostscript writes a password-protected PDF; poppler then reports the document as locked.
        const QString gs = QStandardPaths::findExecutable(QStringLiteral("gs"));
        if (gs.isEmpty()) {
            QSKIP("gs (Ghostscript) not installed: cannot make an encrypted PDF");
        }
        const QString ps  = writeFile(m_dir, QStringLiteral("enc.ps"),
                                      "%!PS\n/Helvetica findfont 12 scalefont setfont 72 720 moveto (secret) show showpage\n");
        const QString pdf = m_dir.filePath(QStringLiteral("enc.pdf"));
        QProcess      p;
        p.start(gs, {QStringLiteral("-q"), QStringLiteral("-dNOPAUSE"), QStringLiteral("-dBATCH"),
                     QStringLiteral("-sDEVICE=pdfwrite"), QStringLiteral("-sOwnerPassword=owner"),
                     QStringLiteral("-sUserPassword=user"), QStringLiteral("-sOutputFile=") + pdf, ps});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        auto doc = importFile(pdf);
        QVERIFY(!doc);
        QVERIFY2(doc.error().message.contains(QStringLiteral("password-protected")), qPrintable(doc.error().message));
    }

    void dedupeBySha256() {
        auto store = openStore(QStringLiteral("dedupe.sqlite3"));
        QVERIFY(store);
        const QByteArray text = paragraphs(20, "dedupe");
        const QString    a    = writeFile(m_dir, QStringLiteral("a.txt"), text);
        const QString    b    = writeFile(m_dir, QStringLiteral("copy-of-a.md"), text);
        auto             first = store->importFile(a);
        QVERIFY(first);
        QVERIFY(!first->alreadyPresent);
        auto second = store->importFile(b);
        QVERIFY(second);
        QVERIFY(second->alreadyPresent);
        QCOMPARE(second->documentId, first->documentId);
        QCOMPARE(second->chunkCount, first->chunkCount);
        auto docs = store->documents();
        QVERIFY(docs);
        QCOMPARE(docs->size(), 1);
        QCOMPARE(docs->first().chunkCount, first->chunkCount);
        QCOMPARE(store->db().queryInt(QStringLiteral("SELECT count(*) FROM chunks")).value(), qint64(first->chunkCount));
        // Removing cascades to chunks and the FTS index.
        QVERIFY(store->remove(first->documentId));
        QCOMPARE(store->db().queryInt(QStringLiteral("SELECT count(*) FROM chunks")).value(), qint64(0));
        QVERIFY(store->search(QStringLiteral("dedupe"), 10)->isEmpty());
        QVERIFY(store->db().exec(QStringLiteral("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")));
    }

    void searchRanksWithBm25() {
        auto store = openStore(QStringLiteral("search.sqlite3"));
        QVERIFY(store);
        writeFile(m_dir, QStringLiteral("many.txt"), "zebra zebra zebra zebra zebra crossing\n");
        writeFile(m_dir, QStringLiteral("one.txt"), "a zebra among many many other animals in a long sentence "
                                                    "about lions, tigers, elephants, giraffes and hippos\n");
        writeFile(m_dir, QStringLiteral("none.txt"), "nothing striped here, München and Привет\n");
        for (const char * name : {"many.txt", "one.txt", "none.txt"}) {
            QVERIFY(store->importFile(m_dir.filePath(QString::fromLatin1(name))));
        }
        auto hits = store->search(QStringLiteral("zebra"), 10);
        QVERIFY(hits);
        QCOMPARE(hits->size(), 2);
        QCOMPARE(hits->at(0).documentName, QStringLiteral("many.txt"));
        QCOMPARE(hits->at(1).documentName, QStringLiteral("one.txt"));
        QVERIFY(hits->at(0).score < hits->at(1).score); // bm25: lower is better
        QCOMPARE(hits->at(0).rank, 0);

        QCOMPARE(store->search(QStringLiteral("zebra lions"), 10)->size(), 1); // AllWords
        QCOMPARE(store->search(QStringLiteral("zebra lions"), 10, {MatchMode::AnyWord, 0})->size(), 2);
        QCOMPARE(store->search(QStringLiteral("munchen"), 10)->size(), 1);     // diacritics folded
        QCOMPARE(store->search(QStringLiteral("привет"), 10)->size(), 1);
        // Hostile input is text, never FTS5 syntax: no error, whatever it matches.
        for (const QString & q : {QStringLiteral("\""), QStringLiteral("*"), QStringLiteral("NEAR("),
                                  QStringLiteral("zebra OR"), QStringLiteral("-zebra"), QStringLiteral("text:zebra"),
                                  QStringLiteral("AND"), QStringLiteral("zebra\"*"), QStringLiteral("(zebra"),
                                  QStringLiteral("^zebra"), QStringLiteral("{text}: x"), QString()}) {
            auto r = store->search(q, 10);
            QVERIFY2(r, qPrintable(q + QStringLiteral(": ") + (r ? QString() : r.error().message)));
        }
        QCOMPARE(DocumentStore::ftsQuery(QStringLiteral("a \"b\" *"), MatchMode::AnyWord),
                 QStringLiteral("\"a\" OR \"\"\"b\"\"\""));
    }

    void contextAssemblyRespectsBudget() {
        auto store = openStore(QStringLiteral("context.sqlite3"));
        QVERIFY(store);
        // 40 paragraphs of ~130 bytes; "keyword" appears in every one, "rare" in two.
        QByteArray text;
        for (int i = 0; i < 60; ++i) {
            text += "Section " + QByteArray::number(i) + " keyword " + (i % 30 == 7 ? "rare rare " : "") +
                    QByteArray(1200, 'x').replace("xxxxx", "word ") + "\n\n";
        }
        auto imported = store->importFile(writeFile(m_dir, QStringLiteral("context.txt"), text));
        QVERIFY(imported);
        QVERIFY(imported->chunkCount >= 40);

        SlowCounter    counter;
        ContextOptions options;
        options.perChunkOverhead = 10;
        auto ctx = store->assembleContext(QStringLiteral("rare keyword"), 700, counter, options);
        QVERIFY2(ctx, ctx ? "" : qPrintable(ctx.error().message));
        QVERIFY(!ctx->included.isEmpty());
        QVERIFY(!ctx->leftOut.isEmpty());
        QVERIFY(ctx->usedTokens <= 700);
        int sum = 0;
        for (const ChunkHit & h : ctx->included) {
            sum += h.tokens + 10;
            QVERIFY(h.tokens > 0);
            QVERIFY(h.citation().startsWith(QStringLiteral("context.txt, lines ")));
        }
        QCOMPARE(sum, ctx->usedTokens);
        // Best first: the two "rare" chunks outrank the rest and are included.
        QVERIFY(ctx->included.first().text.contains(QStringLiteral("rare")));
        QVERIFY(ctx->included.at(1).text.contains(QStringLiteral("rare")));
        for (qsizetype i = 1; i < ctx->included.size(); ++i) {
            QVERIFY(ctx->included[i - 1].rank < ctx->included[i].rank);
        }
        // Everything left out would not have fitted.
        for (const ChunkHit & h : ctx->leftOut) {
            QVERIFY(ctx->usedTokens + h.tokens + 10 > 700 || h.rank < ctx->included.last().rank);
        }
        // The counts are cached per tokenizer: a second run counts nothing.
        const int calls = counter.calls;
        QVERIFY(calls > 0);
        QVERIFY(store->assembleContext(QStringLiteral("rare keyword"), 700, counter, options));
        QCOMPARE(counter.calls, calls);
        QCOMPARE(store->db().queryInt(QStringLiteral("SELECT count(*) FROM chunk_token_counts WHERE tokenizer = 'test-words'")).value(),
                 qint64(calls));
        // A different tokenizer has its own cache rows.
        ApproximateTokenCounter approx;
        auto                    ctx2 = store->assembleContext(QStringLiteral("rare keyword"), 100000, approx, options);
        QVERIFY(ctx2);
        QVERIFY(ctx2->leftOut.isEmpty());
        QVERIFY(store->db().queryInt(QStringLiteral("SELECT count(*) FROM chunk_token_counts WHERE tokenizer <> 'test-words'")).value() > 0);
        // Zero budget: nothing included, everything listed as left out.
        auto none = store->assembleContext(QStringLiteral("keyword"), 0, counter, options);
        QVERIFY(none);
        QVERIFY(none->included.isEmpty());
        QVERIFY(!none->leftOut.isEmpty());
    }

    void attachmentsScopeSearch() {
        auto store = openStore(QStringLiteral("attach.sqlite3"));
        QVERIFY(store);
        auto d1 = store->importFile(writeFile(m_dir, QStringLiteral("att1.txt"), "shared term walrus one\n"));
        auto d2 = store->importFile(writeFile(m_dir, QStringLiteral("att2.txt"), "shared term walrus two\n"));
        QVERIFY(d1 && d2);
        QVERIFY(store->attach(7, d1->documentId));
        QVERIFY(store->attach(7, d1->documentId)); // idempotent
        QVERIFY(store->attach(8, d2->documentId));
        QVERIFY(!store->attach(8, 9999));           // no such document
        QCOMPARE(store->attachedDocuments(7).value(), QList<qint64>{d1->documentId});
        QCOMPARE(store->search(QStringLiteral("walrus"), 10)->size(), 2);
        auto scoped = store->search(QStringLiteral("walrus"), 10, {MatchMode::AllWords, 7});
        QCOMPARE(scoped->size(), 1);
        QCOMPARE(scoped->first().documentName, QStringLiteral("att1.txt"));
        QVERIFY(store->detach(7, d1->documentId));
        QVERIFY(store->search(QStringLiteral("walrus"), 10, {MatchMode::AllWords, 7})->isEmpty());
        QVERIFY(store->remove(d2->documentId)); // cascades to the attachment
        QVERIFY(store->attachedDocuments(8)->isEmpty());
    }

    void cancelLeavesNothing() {
        auto store = openStore(QStringLiteral("cancel.sqlite3"));
        QVERIFY(store);
        const QString path  = writeFile(m_dir, QStringLiteral("cancel.txt"), paragraphs(2000, "cancelme"));
        qint64        seen  = 0;
        auto          result = store->importFile(path, [&seen](qint64 done, qint64) {
            seen = done;
            return done < 64;
        });
        QVERIFY(!result);
        QVERIFY(DocumentStore::isCancellation(result.error()));
        QVERIFY(seen >= 64);
        QCOMPARE(store->db().queryInt(QStringLiteral("SELECT count(*) FROM documents")).value(), qint64(0));
        QCOMPARE(store->db().queryInt(QStringLiteral("SELECT count(*) FROM chunks")).value(), qint64(0));
        QVERIFY(store->search(QStringLiteral("cancelme"), 10)->isEmpty());
        QVERIFY(store->importFile(path)); // and it can be imported afterwards
    }

    void openCleansUpAndRefuses() {
        const QString path = m_dir.filePath(QStringLiteral("cleanup.sqlite3"));
        {
            auto store = openStore(QStringLiteral("cleanup.sqlite3"));
            QVERIFY(store);
            QVERIFY(store->importFile(writeFile(m_dir, QStringLiteral("keep.txt"), "kept document\n")));
            // What a crashed multi-transaction importer would leave behind.
            QVERIFY(store->db().exec(QStringLiteral(
                "INSERT INTO documents(path, name, sha256, size, mime, imported_at, status) "
                "VALUES ('/x', 'half.txt', 'abc', 1, 'text/plain', 0, 'importing');"
                "INSERT INTO chunks(document_id, ordinal, text, byte_start, byte_end, line_start, line_end) "
                "VALUES (last_insert_rowid(), 0, 'halfword', 0, 8, 1, 1);")));
        }
        {
            auto store = openStore(QStringLiteral("cleanup.sqlite3"));
            QVERIFY(store);
            QCOMPARE(store->removedIncompleteImports(), 1);
            QCOMPARE(store->documents()->size(), 1);
            QVERIFY(store->search(QStringLiteral("halfword"), 10)->isEmpty());
            QVERIFY(store->db().exec(QStringLiteral("PRAGMA user_version=99")));
        }
        auto tooNew = DocumentStore::open(path);
        QVERIFY(!tooNew);
        QCOMPARE(tooNew.error().kind, StorageError::Kind::TooNew);

        const QString garbage = writeFile(m_dir, QStringLiteral("garbage.sqlite3"), QByteArray(8192, 'g'));
        auto          notDb   = DocumentStore::open(garbage);
        QVERIFY(!notDb);
        QCOMPARE(notDb.error().kind, StorageError::Kind::NotADatabase);
        QFile g(garbage);
        QVERIFY(g.open(QIODevice::ReadOnly));
        QCOMPARE(g.readAll(), QByteArray(8192, 'g')); // untouched
    }

    void killDuringImport() {
        QTemporaryDir work;
        QVERIFY(work.isValid());
        const QString db = work.filePath(QStringLiteral("killed.sqlite3"));
        QProcess      writer;
        writer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        writer.start(QStringLiteral(V4_DOCUMENTS_WRITER), {db, work.path(), QStringLiteral("50")});
        QVERIFY(writer.waitForStarted());

        QMap<int, int> committed; // doc index → chunk count
        QByteArray     pending;
        int            progressInCurrent = 0;
        QElapsedTimer  timer;
        timer.start();
        // Kill once the second document has written some chunks but not committed.
        while (timer.elapsed() < 60000) {
            QVERIFY(writer.state() == QProcess::Running);
            writer.waitForReadyRead(100);
            pending += writer.readAllStandardOutput();
            qsizetype nl;
            bool      kill = false;
            while ((nl = pending.indexOf('\n')) >= 0) {
                const QList<QByteArray> f = pending.left(nl).split(' ');
                pending.remove(0, nl + 1);
                if (f[0] == "committed") {
                    committed[f[1].toInt()] = f[3].toInt();
                    progressInCurrent       = 0;
                } else if (f[0] == "progress" && f[2].toLongLong() > 0 && committed.size() >= 1) {
                    kill = ++progressInCurrent >= 3;
                }
            }
            if (kill) {
                break;
            }
        }
        ::kill(pid_t(writer.processId()), SIGKILL);
        QVERIFY(writer.waitForFinished(10000));
        QCOMPARE(writer.exitStatus(), QProcess::CrashExit);
        pending += writer.readAllStandardOutput(); // lines written just before the kill
        for (const QByteArray & line : pending.split('\n')) {
            const QList<QByteArray> f = line.split(' ');
            if (f[0] == "committed" && f.size() == 4) {
                committed[f[1].toInt()] = f[3].toInt();
            }
        }
        QVERIFY(!committed.isEmpty());

        // Before DocumentStore's clean-up runs: nothing half-imported is in the file at all.
        {
            auto raw = Database::open(db, DocumentStore::openOptions());
            QVERIFY(raw);
            QCOMPARE(raw.value()->integrityCheck().value(), QStringList{QStringLiteral("ok")});
            QCOMPARE(raw.value()->queryInt(QStringLiteral("SELECT count(*) FROM documents WHERE status <> 'ready'")).value(),
                     qint64(0));
        }
        auto store = DocumentStore::open(db);
        QVERIFY(store);
        QCOMPARE(store.value()->removedIncompleteImports(), 0);
        auto docs = store.value()->documents();
        QVERIFY(docs);
        // Every document the writer saw committed is there, whole; at most the one being committed
        // at the instant of the kill may also be there (committed, not yet printed).
        QVERIFY2(docs->size() == committed.size() || docs->size() == committed.size() + 1,
                 qPrintable(QStringLiteral("%1 visible, %2 committed").arg(docs->size()).arg(committed.size())));
        for (const DocumentInfo & d : docs.value()) {
            const int index = d.name.mid(3).chopped(4).toInt(); // docN.txt
            if (committed.contains(index)) {
                QCOMPARE(d.chunkCount, committed[index]);
            }
            QVERIFY(d.chunkCount > 200);
        }
        QVERIFY(store.value()->db().exec(QStringLiteral("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")));
        QCOMPARE(store.value()->search(QStringLiteral("marker0x1499"), 5)->size(), 1);

        // Retry: the document that was being imported at the kill imports cleanly (or, when its
        // commit landed just before the kill, is found as already present), whole.
        const int     killed = committed.lastKey() + 1;
        const QString path   = work.filePath(QStringLiteral("doc%1.txt").arg(killed));
        auto          retry  = store.value()->importFile(path);
        QVERIFY2(retry, retry ? "" : qPrintable(retry.error().message));
        QVERIFY(retry->chunkCount > 200);
        QCOMPARE(store.value()->document(retry->documentId)->chunkCount, retry->chunkCount);
        QCOMPARE(store.value()->search(QStringLiteral("marker%1x1499").arg(killed), 5)->size(), 1);
        QCOMPARE(store.value()->db().integrityCheck().value(), QStringList{QStringLiteral("ok")});
    }
};

int main(int argc, char ** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    QGuiApplication app(argc, argv); // QPdfWriter needs fonts
    TestDocuments   test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_documents.moc"
