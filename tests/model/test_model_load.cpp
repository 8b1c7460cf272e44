// Loader errors on synthetic GGUF files (tiny_gguf.h): unknown architecture, missing tensor and
// wrong shape each give a v4::Error whose message names the problem precisely; a valid tiny llama
// loads and runs (decode == prefill); weights copied into huge-page memory compute what the
// mapping does, and cancelling during that copy stops the load.
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "tiny_gguf.h"
#include "v4/error.h"
#include "v4/session.h"

class TestModelLoad : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;

    std::string write(const v4test::tiny_model_spec & spec, const char * name) {
        const std::string path = (m_dir.path() + QLatin1Char('/') + QLatin1String(name)).toStdString();
        spec.write(path);
        return path;
    }

    void expectError(const std::string & path, v4::ErrorCode code, const QString & expected) {
        try {
            v4::model::load(path);
            QFAIL("loaded a broken model");
        } catch (const v4::Error & e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(e.code() == code, e.what());
            QVERIFY2(msg.contains(expected), qPrintable(QStringLiteral("'%1' does not contain '%2'").arg(msg, expected)));
        }
    }

private slots:
    void tinyLlamaRuns() {
        v4test::tiny_model_spec spec;
        auto                    m = v4::model::load(write(spec, "ok.gguf"));
        QCOMPARE(QString::fromStdString(m->info().architecture), QStringLiteral("llama"));
        QCOMPARE(m->info().n_vocab, 48u);
        std::vector<int32_t> toks = {1, 5, 9, 3, 7, 11, 2, 4};
        v4::session          full(m, {.n_ctx = 32, .n_threads = 2, .n_batch = 8});
        v4::prefill_options  opt;
        opt.all_logits = true;
        full.prefill(toks, nullptr, opt);
        v4::session step(m, {.n_ctx = 32, .n_threads = 1, .n_batch = 8});
        step.prefill(std::span<const int32_t>(toks).first(3));
        for (size_t i = 3; i < toks.size(); ++i) {
            const auto l = step.decode_one(toks[i]);
            for (uint32_t v = 0; v < 48; ++v) {
                QVERIFY(std::fabs(l[v] - full.all_logits()[i * 48 + v]) < 1e-4f);
            }
        }
        QVERIFY_THROWS_EXCEPTION(v4::Error, step.decode_one(48)); // outside the vocabulary
    }

    void residentWeightsMatchMapped() {
        v4test::tiny_model_spec spec;
        const std::string       path = write(spec, "resident.gguf");
        v4::load_params         mapped_params;
        mapped_params.resident_weights = false;
        auto resident = v4::model::load(path);
        auto mapped = v4::model::load(path, mapped_params);
        QVERIFY(resident->info().weights_resident);
        QVERIFY(!mapped->info().weights_resident);
        const std::vector<int32_t> toks = {1, 5, 9, 3, 7, 11, 2, 4};
        std::vector<float>         logits[2];
        for (int i = 0; i < 2; ++i) {
            v4::session s(i == 0 ? resident : mapped, {.n_ctx = 32, .n_threads = 2, .n_batch = 8});
            s.prefill(toks);
            logits[i].assign(s.logits().begin(), s.logits().end());
        }
        QCOMPARE(logits[0], logits[1]); // same bytes, same kernels: bit-identical
    }

    void cancelDuringResidentCopy() {
        v4test::tiny_model_spec spec;
        v4::load_params         params;
        float                   last = 0.0f;
        params.progress = [&](float f) {
            last = f;
            return f <= 0.1f || f >= 1.0f; // refuse the copy's report (0.1 .. 0.9 of the load)
        };
        try {
            v4::model::load(write(spec, "cancel.gguf"), params);
            QFAIL("load went on after progress returned false");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::cancelled);
        }
        QVERIFY2(last > 0.1f && last < 0.91f, qPrintable(QString::number(last)));
    }

    void unknownArchitecture() {
        v4test::tiny_model_spec spec;
        spec.arch = "mamba9";
        expectError(write(spec, "arch.gguf"), v4::ErrorCode::unsupported,
                    QStringLiteral("unsupported architecture 'mamba9' (supported: llama, qwen2, qwen3, gemma3)"));
    }

    void missingTensor() {
        v4test::tiny_model_spec spec;
        spec.erase("blk.0.attn_k.weight");
        expectError(write(spec, "missing.gguf"), v4::ErrorCode::format,
                    QStringLiteral("missing tensor 'blk.0.attn_k.weight' (expected shape [64, 32])"));
    }

    void wrongShape() {
        v4test::tiny_model_spec spec;
        spec.reshape("blk.0.ffn_down.weight", {96, 32});
        expectError(write(spec, "shape.gguf"), v4::ErrorCode::format,
                    QStringLiteral("tensor 'blk.0.ffn_down.weight': expected shape [96, 64], got [96, 32]"));
    }
};

QTEST_GUILESS_MAIN(TestModelLoad)
#include "test_model_load.moc"
