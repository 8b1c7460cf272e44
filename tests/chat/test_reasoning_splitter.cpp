// <think> ... </think> splitting must not depend on how the stream was cut into pieces.
#include <QTest>

#include "v4/reasoning.h"

namespace {

v4::reasoning_splitter::parts runInPieces(const std::string & text, size_t pieceSize, bool startsInThinking) {
    v4::reasoning_splitter          splitter(startsInThinking);
    v4::reasoning_splitter::parts all;
    for (size_t i = 0; i < text.size(); i += pieceSize) {
        const auto p = splitter.push(std::string_view(text).substr(i, pieceSize));
        all.thinking += p.thinking;
        all.content += p.content;
    }
    const auto tail = splitter.finish();
    all.thinking += tail.thinking;
    all.content += tail.content;
    return all;
}

} // namespace

class TestReasoningSplitter : public QObject {
    Q_OBJECT

private slots:
    void splitsAtEveryPieceSize_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("startsInThinking");
        QTest::addColumn<QString>("thinking");
        QTest::addColumn<QString>("content");
        QTest::newRow("tags in output") << "<think>Let me add 2 and 2.</think>\n\nThe answer is 4." << false
                                        << "Let me add 2 and 2." << "The answer is 4.";
        QTest::newRow("prompt opened the block") << "Hmm, France.\n</think>\n\nParis." << true << "Hmm, France.\n"
                                                 << "Paris.";
        QTest::newRow("no tags") << "Just an answer with < and </ signs." << false << "" << "Just an answer with < and </ signs.";
        QTest::newRow("unfinished thinking") << "<think>still going <" << false << "still going <" << "";
        QTest::newRow("tag text after the answer stays content") << "<think>a</think>b <think> c" << false << "a"
                                                                 << "b <think> c";
    }

    void splitsAtEveryPieceSize() {
        QFETCH(QString, text);
        QFETCH(bool, startsInThinking);
        QFETCH(QString, thinking);
        QFETCH(QString, content);
        const std::string utf8 = text.toStdString();
        for (size_t piece = 1; piece <= utf8.size(); ++piece) {
            const auto parts = runInPieces(utf8, piece, startsInThinking);
            QCOMPARE(QString::fromStdString(parts.thinking), thinking);
            QCOMPARE(QString::fromStdString(parts.content), content);
        }
    }
};

QTEST_APPLESS_MAIN(TestReasoningSplitter)
#include "test_reasoning_splitter.moc"
