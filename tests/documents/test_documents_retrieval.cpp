// Acceptance 3 of issue 7 (realmodel): in a ~1M-token corpus of this machine's text and code, a
// question whose answer is in one planted paragraph gets that paragraph cited. Retrieval decides
// the citation (budgeted with the default model's tokenizer); the default model (base Gemma 3
// 270M) then answers from the assembled prompt, and its answer is printed, not judged. The
// long-context path is checked too: with a window that holds the corpus, the whole documents go in.
#include "TestCorpus.h"
#include "documents/DocumentContext.h"
#include "documents/EngineTokenCounter.h"
#include "test_paths.h"

#include "v4/model.h"
#include "v4/session.h"
#include "v4/tokenizer.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace v4app::documents;

class TestDocumentsRetrieval : public QObject {
    Q_OBJECT

private slots:
    void plantedParagraphIsCited() {
        V4_REQUIRE_DEFAULT_MODEL(modelPath);
        QTemporaryDir        dir;
        const v4test::Corpus corpus = v4test::collectCorpus(dir.filePath(QStringLiteral("corpus")), 1'000'000);
        QVERIFY(corpus.bytes / 4 >= 1'000'000);

        // The fact, in one paragraph in the middle of an ordinary-looking file among the rest.
        QByteArray notes;
        for (int i = 0; i < 40; ++i) {
            notes += "Maintenance log entry " + QByteArray::number(i) +
                     ": checked the harbour lamps, cleaned the lenses, refilled the oil and noted the weather.\n\n";
            if (i == 20) {
                notes += "In 1887 the lighthouse at Kettle Point was painted ochre by keeper Thaddeus Wrenfield, "
                         "who mixed the pigment with whale oil so that it would survive the winter gales.\n\n";
            }
        }
        QFile f(dir.filePath(QStringLiteral("corpus/harbour-maintenance-log.txt")));
        QVERIFY(f.open(QIODevice::WriteOnly) && f.write(notes) == notes.size());
        f.close();

        auto store = DocumentStore::open(dir.filePath(QStringLiteral("documents.sqlite3")));
        QVERIFY(store);
        for (const QString & path : corpus.files + QStringList{f.fileName()}) {
            auto r = store.value()->importFile(path);
            QVERIFY2(r, r ? "" : qPrintable(r.error().message));
            QVERIFY(store.value()->attach(1, r->documentId));
        }
        QString error;
        auto    gemma = EngineTokenCounter::open(modelPath, &error);
        QVERIFY2(gemma, qPrintable(error));

        const QString   question = QStringLiteral("Who painted the lighthouse at Kettle Point, and what colour?");
        DocumentContext context(*store.value(), *gemma);
        auto            report = context.build(1, question, {}, 512);
        QVERIFY2(report, report ? "" : qPrintable(report.error().message));
        QCOMPARE(report->mode, ContextReport::Mode::Retrieved);
        QVERIFY(!report->included.isEmpty());
        const ChunkHit & cited = report->included.first();
        qInfo() << "cited [1]:" << cited.citation() << "|" << report->summary();
        QCOMPARE(cited.documentName, QStringLiteral("harbour-maintenance-log.txt"));
        QVERIFY(cited.text.contains(QStringLiteral("Thaddeus Wrenfield")));
        QCOMPARE(report->chunkIds().first(), cited.chunkId);

        // The default model answers from that context (printed for the record).
        auto model = v4::model::load(modelPath.toStdString());
        auto tok   = v4::tokenizer::open(modelPath.toStdString());
        const QString prompt = QStringLiteral("Sources:\n") + report->promptBlock + QStringLiteral("Question: ") + question +
                               QStringLiteral("\nAnswer:");
        std::vector<int32_t> ids = tok.encode(prompt.toStdString(), true, false);
        v4::session          s(model, {.n_ctx = uint32_t(ids.size() + 64), .n_threads = 2});
        s.prefill(ids);
        std::string answer;
        for (int i = 0; i < 24; ++i) {
            const auto    logits = s.logits();
            const int32_t next   = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
            if (tok.is_eog(next)) {
                break;
            }
            answer += tok.token_to_piece(next, false);
            s.decode_one(next);
        }
        qInfo() << "prompt" << ids.size() << "tokens; answer:" << QString::fromStdString(answer).trimmed();

        // Long-context path: a window that holds everything gets the whole documents, the planted
        // paragraph among them.
        auto whole = context.build(1, question, {}, 4'000'000);
        QVERIFY(whole);
        QCOMPARE(whole->mode, ContextReport::Mode::WholeDocuments);
        QVERIFY(whole->chunkIds().contains(cited.chunkId));
        qInfo() << "long-context:" << whole->summary();
    }
};

QTEST_GUILESS_MAIN(TestDocumentsRetrieval)
#include "test_documents_retrieval.moc"
