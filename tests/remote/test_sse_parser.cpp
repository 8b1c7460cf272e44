// SseParser: the events of a stream must not depend on how the bytes were chunked.
#include "backends/SseParser.h"

#include <QTest>

using v4app::SseEvent;
using v4app::SseParser;

namespace {

// QByteArray literal that may hold NULs.
QByteArray operator""_bytes(const char * s, size_t n) {
    return QByteArray(s, qsizetype(n));
}

// A recorded-style stream mixing every line ending, comments, event names, multi-line data,
// multi-byte UTF-8 (2, 3 and 4 bytes) and the [DONE] marker.
const QByteArray kStream =
    "\xEF\xBB\xBF: keep-alive\r\n"
    "\r\n"
    "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"Hmm, caf\xC3\xA9\"}}]}\r\n"
    "\r\n"
    "data:{\"choices\":[{\"delta\":{\"content\":\"\xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80\"}}]}\n\n"
    "event: message\r"
    "id: 7\r"
    "data: line one\r"
    "data:  line two (leading space kept)\r"
    "\r"
    ": ping\n"
    "retry: 1500\n"
    "event: error\n"
    "data: {\"error\":{\"message\":\"x\"}}\n"
    "\n"
    "data\n"
    "\n"
    "event: ignored-without-data\n"
    "\n"
    "data: [DONE]\r\n"
    "\r\n";

QList<SseEvent> expectedEvents() {
    return {
        {"", "{\"choices\":[{\"delta\":{\"reasoning_content\":\"Hmm, caf\xC3\xA9\"}}]}", ""},
        {"", "{\"choices\":[{\"delta\":{\"content\":\"\xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80\"}}]}", ""},
        {"message", "line one\n line two (leading space kept)", "7"},
        {"error", "{\"error\":{\"message\":\"x\"}}", "7"},
        {"", "", "7"},
        {"", "[DONE]", "7"},
    };
}

QList<SseEvent> parseInPieces(const QByteArray & stream, const QList<qsizetype> & cuts, SseParser & parser) {
    QList<SseEvent> events;
    qsizetype       from = 0;
    for (qsizetype cut : cuts) {
        if (!parser.feed(QByteArrayView(stream).sliced(from, cut - from), events)) {
            return {};
        }
        from = cut;
    }
    parser.feed(QByteArrayView(stream).sliced(from), events);
    return events;
}

QString describe(const QList<SseEvent> & events) {
    QStringList parts;
    for (const SseEvent & e : events) {
        parts << QStringLiteral("[%1|%2|%3]").arg(QString::fromUtf8(e.type), QString::fromUtf8(e.data), QString::fromUtf8(e.id));
    }
    return parts.join(QLatin1Char(' '));
}

} // namespace

class TestSseParser : public QObject {
    Q_OBJECT

private slots:
    void wholeStream() {
        SseParser       parser;
        QList<SseEvent> events;
        QVERIFY(parser.feed(kStream, events));
        QCOMPARE(describe(events), describe(expectedEvents()));
        QCOMPARE(events, expectedEvents());
        QCOMPARE(parser.commentCount(), 2);
        QCOMPARE(parser.retryMs(), 1500);
        QCOMPARE(parser.bufferedBytes(), 0);
    }

    // Every single split point, including inside "\r\n", inside UTF-8 sequences and the BOM.
    void everySplitPoint() {
        for (qsizetype cut = 0; cut <= kStream.size(); ++cut) {
            SseParser parser;
            const auto events = parseInPieces(kStream, {cut}, parser);
            if (events != expectedEvents()) {
                QFAIL(qPrintable(QStringLiteral("split at %1 gave %2").arg(cut).arg(describe(events))));
            }
        }
    }

    // Every pair of split points (three pieces).
    void everyPairOfSplitPoints() {
        const auto expected = expectedEvents();
        for (qsizetype a = 0; a <= kStream.size(); ++a) {
            for (qsizetype b = a; b <= kStream.size(); ++b) {
                SseParser parser;
                if (parseInPieces(kStream, {a, b}, parser) != expected) {
                    QFAIL(qPrintable(QStringLiteral("splits at %1,%2 differ").arg(a).arg(b)));
                }
            }
        }
    }

    void byteByByte() {
        SseParser       parser;
        QList<SseEvent> events;
        for (char c : kStream) {
            QVERIFY(parser.feed(QByteArrayView(&c, 1), events));
        }
        QCOMPARE(events, expectedEvents());
    }

    void crAtEndThenLfIsOneLineEnd() {
        SseParser       parser;
        QList<SseEvent> events;
        QVERIFY(parser.feed("data: a\r", events));
        QVERIFY(parser.feed("\n", events)); // second half of CRLF, not an empty line
        QCOMPARE(events.size(), 0);
        QVERIFY(parser.feed("\r", events));
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("a"));
        // An empty feed in between must not forget the pending CR.
        QVERIFY(parser.feed("data: b\r", events));
        QVERIFY(parser.feed("", events));
        QVERIFY(parser.feed("\n\n", events));
        QCOMPARE(events.size(), 2);
        QCOMPARE(events[1].data, QByteArray("b"));
    }

    void incompleteEventIsNotDispatched() {
        SseParser       parser;
        QList<SseEvent> events;
        QVERIFY(parser.feed("data: never finished\n", events));
        QCOMPARE(events.size(), 0);
        QVERIFY(parser.bufferedBytes() > 0);
    }

    void oversizedLineFailsWithBoundedMemory() {
        const qsizetype limit = 1024 * 1024;
        SseParser       parser(limit);
        QList<SseEvent> events;
        QVERIFY(parser.feed("data: ok\n\n", events));
        QCOMPARE(events.size(), 1);
        const QByteArray piece(64 * 1024, 'a');
        bool             ok = parser.feed("data: ", events);
        qsizetype        fed = 0;
        while (ok && fed < 10 * limit) {
            ok = parser.feed(piece, events);
            fed += piece.size();
            QVERIFY(parser.bufferedBytes() <= limit);
        }
        QVERIFY(!ok);
        QVERIFY(parser.hasError());
        QVERIFY(parser.errorString().contains(QLatin1String("larger than")));
        QVERIFY(fed <= limit + piece.size());
        QCOMPARE(parser.bufferedBytes(), 0); // memory given back
        QVERIFY(!parser.feed("\n\ndata: more\n\n", events));
        QCOMPARE(events.size(), 1);
        parser.reset();
        QVERIFY(parser.feed("data: again\n\n", events));
        QCOMPARE(events.size(), 2);
    }

    void oversizedEventOfManyLinesFails() {
        SseParser       parser(1000);
        QList<SseEvent> events;
        bool            ok = true;
        for (int i = 0; i < 100 && ok; ++i) {
            ok = parser.feed("data: 0123456789012345678901234567890123456789\n", events);
        }
        QVERIFY(!ok);
        QVERIFY(events.isEmpty());
    }

    void tenMegabyteLineInOneChunk() {
        SseParser        parser; // default 8 MB
        QList<SseEvent>  events;
        const QByteArray huge = "data: " + QByteArray(10 * 1024 * 1024, 'x') + "\n\n";
        QVERIFY(!parser.feed(huge, events));
        QVERIFY(events.isEmpty());
    }

    void fieldsWithoutSpaceOrValue() {
        SseParser       parser;
        QList<SseEvent> events;
        QVERIFY(parser.feed("data:x\nevent\ndata\n\nid: 1\0x\ndata: y\n\n"_bytes, events));
        QCOMPARE(events.size(), 2);
        QCOMPARE(events[0].data, QByteArray("x\n"));
        QCOMPARE(events[0].type, QByteArray());
        QCOMPARE(events[1].id, QByteArray()); // an id with NUL is ignored
    }
};

QTEST_APPLESS_MAIN(TestSseParser)
#include "test_sse_parser.moc"
