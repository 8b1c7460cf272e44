// The Markdown renderer: each block kind, inline spans, escaping of hostile input, link schemes,
// and the streaming splitter that lets a long answer render in O(n).
#include <QElapsedTimer>
#include <QTest>
#include <QTextDocument>

#include "ChatView.h"
#include "MarkdownRenderer.h"

using namespace v4ui;

class TestMarkdownRenderer : public QObject {
    Q_OBJECT

    static QString html(const QString & md) { return renderMarkdown(md, MarkdownStyle{}).html; }
    static QString plain(const QString & md) {
        QTextDocument doc;
        doc.setHtml(html(md));
        return doc.toPlainText();
    }

private slots:
    void headingsListsAndParagraphs() {
        const QString h = html(QStringLiteral("# Title\n\nSome *text* and **bold**.\nSecond line.\n\n- one\n- two\n  - nested\n\n3. three\n4. four"));
        QVERIFY(h.contains(QStringLiteral("<h2>Title</h2>")));
        QVERIFY(h.contains(QStringLiteral("<i>text</i>")) && h.contains(QStringLiteral("<b>bold</b>")));
        QVERIFY(h.contains(QStringLiteral("Some <i>text</i> and <b>bold</b>.<br>Second line.")));
        QVERIFY(h.contains(QStringLiteral("<ul><li>one<li>two<ul><li>nested</ul></ul>")));
        QVERIFY(h.contains(QStringLiteral("<ol start=\"3\"><li>three<li>four</ol>")));
    }

    void tablesWithAlignment() {
        const QString md = QStringLiteral("| Name | Size |\n|:-----|-----:|\n| a \\| b | 10 |\n| c | 2 |");
        const QString h = html(md);
        QVERIFY(h.contains(QStringLiteral("<th align=\"left\"")));
        QVERIFY(h.contains(QStringLiteral("<td align=\"right\">10</td>")));
        QVERIFY(h.contains(QStringLiteral("a | b")));
        QCOMPARE(plain(md).split(QLatin1Char('\n'), Qt::SkipEmptyParts).size(), 6); // 3 rows x 2 cells
    }

    void codeBlocksAreMonospaceEscapedAndCopyable() {
        const MarkdownHtml out = renderMarkdown(QStringLiteral("Before\n```cpp\nint a = 1 < 2;\n// **not bold**\n```\nAfter `x<y`"), MarkdownStyle{}, 5);
        QCOMPARE(out.codeBlocks, QStringList{QStringLiteral("int a = 1 < 2;\n// **not bold**")});
        QVERIFY(out.html.contains(QStringLiteral("href=\"copy-code:5\"")));
        QVERIFY(out.html.contains(QStringLiteral("int a = 1 &lt; 2;")));
        QVERIFY(out.html.contains(QStringLiteral("// **not bold**")));
        QVERIFY(out.html.contains(QStringLiteral(">cpp<")));
        QVERIFY(out.html.contains(QStringLiteral("&nbsp;x&lt;y&nbsp;</code>")));
    }

    void hostileInputIsEscapedAndOnlyWebLinksAreAnchors() {
        const QString h = html(QStringLiteral("<script>alert(1)</script> <img src=x onerror=y>\n"
                                              "[ok](https://example.com/a_b_c) [bad](javascript:alert(1)) [file](file:///etc/passwd)\n"
                                              "see https://qt.io/x*y*z ok"));
        QVERIFY(!h.contains(QStringLiteral("<script")));
        QVERIFY(!h.contains(QStringLiteral("<img")));
        QVERIFY(h.contains(QStringLiteral("&lt;script&gt;")));
        QVERIFY(h.contains(QStringLiteral("<a href=\"https://example.com/a_b_c\"")));
        QVERIFY(!h.contains(QStringLiteral("javascript:alert")) || !h.contains(QStringLiteral("href=\"javascript")));
        QVERIFY(!h.contains(QStringLiteral("href=\"file:")));
        QVERIFY(h.contains(QStringLiteral("<a href=\"https://qt.io/x*y*z\"")));
    }

    void quotesAndRules() {
        const QString h = html(QStringLiteral("> quoted **text**\n\n---\n\nafter"));
        QVERIFY(h.contains(QStringLiteral("<blockquote")) && h.contains(QStringLiteral("<b>text</b>")));
        QVERIFY(h.contains(QStringLiteral("<hr>")));
    }

    void splitterSettlesAtBlockBoundariesOutsideFences() {
        MarkdownStreamSplitter splitter;
        QString text = QStringLiteral("para one\n");
        QCOMPARE(splitter.settledLength(text), 0);
        text += QStringLiteral("\n```\ncode\n\nmore code\n");
        QCOMPARE(splitter.settledLength(text), 10); // after the blank line, not inside the fence
        text += QStringLiteral("```\nnext");
        QCOMPARE(splitter.settledLength(text), text.indexOf(QStringLiteral("next")));
    }

    // Streaming a 1 MB answer in 4 KB batches must not re-render everything per batch; the time is
    // printed for docs/PERFORMANCE.md, not asserted. The final text must match a full render.
    void streamingAMegabyteAnswer() {
        QString answer;
        int     n = 0;
        while (answer.size() < (1 << 20)) {
            answer += QStringLiteral("Paragraph %1 with **bold** and `code` and a [link](https://example.com).\n- item a\n- item b\n\n").arg(++n);
            if (n % 50 == 0) {
                answer += QStringLiteral("```python\nprint('hello %1')\n```\n\n").arg(n);
            }
        }
        ChatView view;
        view.resize(900, 700);
        v4app::StoredMessage m;
        m.id = 1;
        m.role = QStringLiteral("assistant");
        view.setMessages({m}, 1);
        view.beginStreaming();
        QElapsedTimer clock;
        clock.start();
        QVector<qint64> batchNs;
        for (int pos = 0; pos < answer.size(); pos += 4096) {
            QElapsedTimer batch;
            batch.start();
            view.appendAnswer(answer.mid(pos, 4096));
            batchNs.append(batch.nsecsElapsed());
        }
        const qint64 total = clock.elapsed();
        // Quadratic rendering would make the last batches far slower than the first ones.
        auto meanMs = [&batchNs](int from, int count) {
            qint64 sum = 0;
            for (int i = from; i < from + count; ++i) sum += batchNs.at(i);
            return sum / count / 1e6;
        };
        const int tenth = static_cast<int>(batchNs.size() / 10);
        qInfo("streamed %lld chars in %d batches of 4 KB: %lld ms total; mean batch %.1f ms in the first tenth, %.1f ms in the last",
              static_cast<long long>(answer.size()), static_cast<int>(batchNs.size()), static_cast<long long>(total),
              meanMs(0, tenth), meanMs(static_cast<int>(batchNs.size()) - tenth, tenth));
        QVERIFY(view.toPlainText().contains(QStringLiteral("Paragraph %1 with bold").arg(n)));
        QVERIFY(view.codeBlockCount() >= n / 50 - 1);
    }
};

QTEST_MAIN(TestMarkdownRenderer)
#include "test_markdown_renderer.moc"
