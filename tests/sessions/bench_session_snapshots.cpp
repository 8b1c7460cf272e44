// Not a test: re-prefill vs restore of a saved session state with the default model.
//   bench_session_snapshots [tokens...]   (default 8192 32000)
// For each size: prefill that many tokens of /usr/share/common-licenses text, save the snapshot
// (compressed), drop the session, restore into a fresh one, and check the logits are identical.
#include "sessions/SessionSnapshotStore.h"
#include "sessions/SnapshotCompression.h"

#include "v4/model.h"
#include "v4/session.h"
#include "v4/tokenizer.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>

#include <cstdio>
#include <cstring>

using namespace v4app::sessions;

int main(int argc, char ** argv) {
    QCoreApplication app(argc, argv);
    QStringList      args = app.arguments().mid(1);
    if (args.isEmpty()) {
        args = {QStringLiteral("8192"), QStringLiteral("32000")};
    }
    const QString modelPath = QDir::homePath() + QStringLiteral("/.local/share/v4chat/models/gemma-3-270m-q4_k_m.gguf");
    auto          model     = v4::model::load(modelPath.toStdString());
    auto          tok       = v4::tokenizer::open(modelPath.toStdString());
    std::string   text;
    const QDir    licenses(QStringLiteral("/usr/share/common-licenses"));
    for (const QString & name : licenses.entryList(QDir::Files, QDir::Name)) {
        QFile f(licenses.filePath(name));
        if (f.open(QIODevice::ReadOnly)) {
            text += f.readAll().toStdString();
        }
    }
    std::vector<int32_t> corpus = tok.encode(text, true, false);
    QTemporaryDir        dir;
    SessionSnapshotStore store(dir.path());
    const ModelIdentity  identity = ModelIdentity::ofFile(modelPath);
    std::printf("model %s, corpus %zu tokens, codec %s\n", qPrintable(modelPath), corpus.size(),
                qPrintable(codecName(preferredCodec())));
    for (const QString & arg : args) {
        const size_t n = arg.toULong();
        while (corpus.size() < n) { // repeat the text when a size asks for more than it has
            corpus.insert(corpus.end(), corpus.begin() + 1, corpus.begin() + 1 + std::min(corpus.size() - 1, n - corpus.size()));
        }
        const std::span<const int32_t> tokens(corpus.data(), n);
        const v4::session_params       params{.n_ctx = uint32_t(n + 256), .n_threads = 2};
        std::vector<float>             logits;
        double                         prefillS = 0, saveS = 0;
        qint64                         raw = 0, stored = 0;
        QString                        codec;
        {
            v4::session   s(model, params);
            QElapsedTimer t;
            t.start();
            s.prefill(tokens);
            prefillS = t.nsecsElapsed() / 1e9;
            logits.assign(s.logits().begin(), s.logits().end());
            t.restart();
            auto info = store.save(1, identity, s);
            saveS     = t.nsecsElapsed() / 1e9;
            if (!info) {
                std::fprintf(stderr, "save failed: %s\n", qPrintable(info.error().message));
                return 1;
            }
            raw    = info->rawBytes;
            stored = info->storedBytes;
            codec  = info->codec;
        }
        v4::session   s(model, params);
        QElapsedTimer t;
        t.start();
        auto outcome = store.restore(1, identity, tokens, s);
        const double restoreS = t.nsecsElapsed() / 1e9;
        if (!outcome || outcome->restoredTokens != int(n)) {
            std::fprintf(stderr, "restore failed: %s\n",
                         outcome ? qPrintable(outcome->staleReason) : qPrintable(outcome.error().message));
            return 1;
        }
        const bool same = std::memcmp(s.logits().data(), logits.data(), logits.size() * sizeof(float)) == 0;
        std::printf("%zu tokens: prefill %.1f s (%.0f tok/s) | save %.2f s | restore %.2f s | snapshot %.1f MB raw, "
                    "%.1f MB %s (%.0f %%) | logits identical: %s\n",
                    n, prefillS, n / prefillS, saveS, restoreS, raw / 1e6, stored / 1e6, qPrintable(codec),
                    100.0 * stored / raw, same ? "yes" : "NO");
        std::fflush(stdout);
    }
    return 0;
}
