// Auto's router against the labelled table in router_cases.tsv, plus the properties the UI
// relies on: deterministic, short reasons, explicit requests win, the threshold moves the line.
#include <QFile>
#include <QRegularExpression>
#include <QTest>

#include "modes/Router.h"

using namespace v4app;

class TestRouter : public QObject {
    Q_OBJECT

private slots:
    // An invalid pattern only warns at match time; make that a failure.
    void init() { QTest::failOnWarning(QRegularExpression(QStringLiteral(".*"))); }
    void table_data();
    void table();
    void tableIsLargeAndBalanced();
    void sameInputSameDecision();
    void summaryNamesModeAndReasons();
    void explicitRequestsWin();
    void thresholdMovesTheLine();
    void longConversationAddsWeight();
    void hugeInputIsFine();
};

namespace {
struct Case {
    QString expected;
    QString lastMode;
    QString prompt;
};

QVector<Case> loadCases() {
    QFile file(QStringLiteral(V4_ROUTER_CASES));
    if (!file.open(QIODevice::ReadOnly)) {
        qFatal("cannot open %s", V4_ROUTER_CASES);
    }
    QVector<Case> cases;
    for (const QByteArray & raw : file.readAll().split('\n')) {
        const QString line = QString::fromUtf8(raw);
        if (line.isEmpty() || line.startsWith(QLatin1Char('#'))) {
            continue;
        }
        const QStringList parts = line.split(QLatin1Char('\t'));
        if (parts.size() != 3) {
            qFatal("bad row in router_cases.tsv: %s", qPrintable(line));
        }
        cases.push_back({parts[0], parts[1], QString(parts[2]).replace(QStringLiteral("\\n"), QStringLiteral("\n"))});
    }
    return cases;
}
} // namespace

void TestRouter::table_data() {
    QTest::addColumn<QString>("expected");
    QTest::addColumn<QString>("lastMode");
    QTest::addColumn<QString>("prompt");
    for (const Case & c : loadCases()) {
        QTest::newRow(qPrintable(c.prompt.left(60))) << c.expected << c.lastMode << c.prompt;
    }
}

void TestRouter::table() {
    QFETCH(QString, expected);
    QFETCH(QString, lastMode);
    QFETCH(QString, prompt);
    ConversationContext context;
    if (lastMode != QLatin1String("-")) {
        context.lastMode = chatModeFromName(lastMode);
        context.priorUserMessages = 1;
        context.historyChars = 400;
    }
    const RouteDecision d = Router().route(prompt, context);
    QVERIFY2(chatModeName(d.mode) == expected,
             qPrintable(QStringLiteral("got %1 (score %2): %3").arg(chatModeName(d.mode)).arg(d.score).arg(d.summary())));
    QVERIFY(!d.reasons.isEmpty());
}

void TestRouter::tableIsLargeAndBalanced() {
    const QVector<Case> cases = loadCases();
    QVERIFY(cases.size() >= 40);
    const auto experts = std::count_if(cases.begin(), cases.end(), [](const Case & c) { return c.expected == QLatin1String("expert"); });
    QVERIFY(experts >= 15);
    QVERIFY(cases.size() - experts >= 15);
}

void TestRouter::sameInputSameDecision() {
    const Router router;
    for (const Case & c : loadCases()) {
        const RouteDecision a = router.route(c.prompt);
        const RouteDecision b = router.route(c.prompt);
        QCOMPARE(a.mode, b.mode);
        QCOMPARE(a.reasons, b.reasons);
        QCOMPARE(a.score, b.score);
    }
}

void TestRouter::summaryNamesModeAndReasons() {
    const RouteDecision d = Router().route(QStringLiteral("Prove this is correct:\n```\nint f(int x) { return x + 1; }\n```"));
    QCOMPARE(d.mode, ChatMode::Expert);
    QCOMPARE(d.summary(), QStringLiteral("Auto \u2192 Expert: contains code, asks for a proof"));
    for (const QString & reason : d.reasons) {
        QVERIFY2(reason.size() <= 40, qPrintable(reason)); // fits next to the composer
    }
    QVERIFY(Router().route(QStringLiteral("hello")).summary().startsWith(QStringLiteral("Auto \u2192 Fast: ")));
}

void TestRouter::explicitRequestsWin() {
    const RouteDecision quick = Router().route(QStringLiteral("Quick answer: prove that there are infinitely many primes"));
    QCOMPARE(quick.mode, ChatMode::Fast);
    QVERIFY(quick.explicitRequest);
    const RouteDecision hard = Router().route(QStringLiteral("Think hard about this: 2 + 2?"));
    QCOMPARE(hard.mode, ChatMode::Expert);
    QVERIFY(hard.explicitRequest);
}

void TestRouter::thresholdMovesTheLine() {
    const QString text = QStringLiteral("Why is the sky blue?"); // one light signal (+2)
    QCOMPARE(Router(3).route(text).mode, ChatMode::Fast);
    QCOMPARE(Router(2).route(text).mode, ChatMode::Expert);
    QCOMPARE(Router(100).route(QStringLiteral("Prove Fermat's little theorem step by step")).mode, ChatMode::Fast);
}

void TestRouter::longConversationAddsWeight() {
    const QString text = QStringLiteral("Why is the sky blue?");
    ConversationContext context;
    context.historyChars = 50'000;
    const RouteDecision d = Router().route(text, context);
    QCOMPARE(d.mode, ChatMode::Expert);
    QVERIFY(d.reasons.contains(QStringLiteral("long conversation")));
}

void TestRouter::hugeInputIsFine() {
    // A 1 MB paste must not stall the router (no backtracking blow-up) and reads as long.
    QString text;
    for (int i = 0; i < 20'000; ++i) {
        text += QStringLiteral("the quick brown fox jumps over the lazy dog %1\n").arg(i);
    }
    const RouteDecision d = Router().route(text);
    QVERIFY(!d.reasons.isEmpty());
    QVERIFY(Router().route(QString(1'000'000, QLatin1Char('a'))).summary().contains(QStringLiteral("long message")));
}

QTEST_GUILESS_MAIN(TestRouter)
#include "test_router.moc"
