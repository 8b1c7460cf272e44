// Tokenizers against Hugging Face: every string of strings.json must give HF's ids for each committed
// vocabulary (with and without special-token parsing, with BOS), round-trip through decode(), and
// stream token by token to the same text. Then malformed metadata and invalid input.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <ctime>
#include <functional>

#include "format/gguf.h"
#include "gguf/gguf_builder.h"
#include "test_paths.h"
#include "v4/error.h"
#include "v4/tokenizer.h"

namespace {

QJsonDocument readJson(const QString & path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        qFatal("cannot open fixture %s", qPrintable(path));
    }
    return QJsonDocument::fromJson(f.readAll());
}

std::vector<int32_t> toIds(const QJsonValue & v) {
    std::vector<int32_t> ids;
    for (const QJsonValue & x : v.toArray()) {
        ids.push_back(static_cast<int32_t>(x.toInteger()));
    }
    return ids;
}

QString show(const std::vector<int32_t> & ids) {
    QStringList parts;
    for (int32_t id : ids) {
        parts << QString::number(id);
    }
    return QLatin1Char('[') + parts.join(QLatin1Char(',')) + QLatin1Char(']');
}

// The error a callable throws, or a failure when it throws none.
v4::Error thrown(const std::function<void()> & f) {
    try {
        f();
    } catch (const v4::Error & e) {
        return e;
    }
    return v4::Error(v4::ErrorCode::internal, "<nothing thrown>");
}

v4::tokenizer_vocab tinySpm() {
    v4::tokenizer_vocab v;
    v.model  = "llama";
    v.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "ab", "\xE2\x96\x81" "ab"};
    v.scores = {0, 0, 0, -1, -2, -3, -4, -5};
    v.types  = {2, 3, 3, 1, 1, 1, 1, 1};
    v.bos_id = 1;
    v.eos_id = 2;
    v.unk_id = 0;
    return v;
}

} // namespace

class TestTokenizer : public QObject {
    Q_OBJECT

private:
    std::vector<std::string> m_strings;

    void checkAgainstHf(const QString & vocabName, const QString & expectedName) {
        const v4::tokenizer tok  = v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/") + vocabName).toStdString());
        const QJsonArray    cases = readJson(v4test::fixturePath(QStringLiteral("tokenizer/") + expectedName))
                                     .object().value(QStringLiteral("cases")).toArray();
        QCOMPARE(static_cast<size_t>(cases.size()), m_strings.size());
        int idsOk = 0, roundTrips = 0, hfRoundTrips = 0, streamOk = 0, failures = 0, lostRoundTrips = 0;
        for (qsizetype i = 0; i < cases.size(); ++i) {
            const std::string & s = m_strings[i];
            const QJsonObject   c = cases[i].toObject();
            const auto special = tok.encode(s, false, true);
            const auto plain   = tok.encode(s, false, false);
            const auto bos     = tok.encode(s, true, true);
            const bool same = special == toIds(c[QStringLiteral("special")]) && plain == toIds(c[QStringLiteral("plain")]) &&
                              bos == toIds(c[QStringLiteral("bos")]);
            idsOk += same;
            if (!same && ++failures <= 10) {
                qWarning().noquote() << vocabName << "case" << i << QString::fromUtf8(s).toHtmlEscaped().left(80)
                                     << "\n  special ours" << show(special) << "hf" << show(toIds(c[QStringLiteral("special")]))
                                     << "\n  plain   ours" << show(plain) << "hf" << show(toIds(c[QStringLiteral("plain")]))
                                     << "\n  bos     ours" << show(bos) << "hf" << show(toIds(c[QStringLiteral("bos")]));
            }
            const bool hfRt = c[QStringLiteral("hf_roundtrip")].toBool();
            hfRoundTrips += hfRt;
            const std::string decoded = tok.decode(special);
            roundTrips += decoded == s;
            if (hfRt && decoded != s) {
                ++lostRoundTrips;
                qWarning().noquote() << vocabName << "case" << i << "does not round-trip although HF does";
            }
            v4::utf8_stream stream(tok);
            std::string     streamed;
            for (int32_t id : special) {
                const std::string part = stream.push(id);
                QVERIFY(v4::utf8_sanitize(part) == part); // never half a character
                streamed += part;
            }
            streamed += stream.finish();
            streamOk += streamed == v4::utf8_sanitize(decoded);
        }
        qInfo().noquote() << vocabName << ":" << idsOk << "/" << cases.size() << "strings match HF;" << roundTrips
                          << "round-trip (HF:" << hfRoundTrips << ");" << streamOk << "stream == decode";
        QCOMPARE(idsOk, static_cast<int>(cases.size()));
        QCOMPARE(lostRoundTrips, 0);
        QCOMPARE(streamOk, static_cast<int>(cases.size()));
    }

private slots:
    void initTestCase() {
        const QJsonArray a = readJson(v4test::fixturePath(QStringLiteral("tokenizer/strings.json"))).array();
        for (const QJsonValue & v : a) {
            m_strings.push_back(v.toString().toStdString());
        }
        QVERIFY(m_strings.size() >= 300);
    }

    void gemma3MatchesHuggingFace() {
        checkAgainstHf(QStringLiteral("gemma-3-270m.vocab.gguf"), QStringLiteral("expected-gemma-3-270m.json"));
    }

    void deepseekQwenMatchesHuggingFace() {
        checkAgainstHf(QStringLiteral("deepseek-r1-distill-qwen-7b.vocab.gguf"),
                       QStringLiteral("expected-deepseek-r1-distill-qwen-7b.json"));
    }

    // SmolLM2: byte-level BPE whose pre-tokenizer is a sequence (digits split one by one, then the
    // GPT-2 regex).
    void smollm2MatchesHuggingFace() {
        checkAgainstHf(QStringLiteral("smollm2-135m-instruct.vocab.gguf"), QStringLiteral("expected-smollm2-135m-instruct.json"));
    }

    // SmolLM2's vocabulary has no token for 21 bytes (0x04, 0x1D, 0xF1, ...); HF drops them. The ids
    // below are HF's (transformers 5.23 on the same vocab-only GGUF).
    void smollm2DropsBytesMissingFromVocabulary() {
        const v4::tokenizer tok =
            v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/smollm2-135m-instruct.vocab.gguf")).toStdString());
        QCOMPARE(tok.encode("a\x04" "b", false, true), (std::vector<int32_t>{81, 82}));
        QCOMPARE(tok.encode("\x04", false, true), std::vector<int32_t>{});
        QCOMPARE(tok.encode("x\x1dy z", false, true), (std::vector<int32_t>{104, 105, 1892}));
        QCOMPARE(tok.encode("\xF1\x80\x80\x80q", false, true), (std::vector<int32_t>{218, 218, 218, 97})); // U+40000
        QCOMPARE(tok.encode("abc 123 4567 x", false, true),
                 (std::vector<int32_t>{25276, 216, 33, 34, 35, 216, 36, 37, 38, 39, 1792})); // digits one by one
    }

    void gemma3Metadata() {
        const v4::tokenizer tok = v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/gemma-3-270m.vocab.gguf")).toStdString());
        QCOMPARE(tok.n_vocab(), 262144);
        QCOMPARE(tok.model(), std::string("llama"));
        QCOMPARE(tok.bos(), 2);
        QCOMPARE(tok.eos(), 1);
        QVERIFY(tok.add_bos());
        QVERIFY(!tok.add_eos());
        const auto eot = tok.find_token("<end_of_turn>");
        QVERIFY(eot.has_value());
        QVERIFY(tok.is_eog(*eot));
        QVERIFY(tok.is_eog(tok.eos()));
        QVERIFY(!tok.is_eog(tok.bos()));
        QVERIFY(!tok.is_eog(*tok.find_token("<start_of_turn>")));
        QVERIFY(tok.is_control(*eot));
        QCOMPARE(tok.token_to_piece(*eot), std::string("<end_of_turn>"));
        QCOMPARE(tok.token_to_piece(*eot, false), std::string());
        QCOMPARE(tok.token_to_piece(*tok.find_token("<0x0A>")), std::string("\n"));
        QCOMPARE(tok.token_to_piece(*tok.find_token("\xE2\x96\x81hello")), std::string(" hello"));
        QCOMPARE(tok.type(*tok.find_token("<0x0A>")), v4::token_type::byte);
        QCOMPARE(tok.encode("<start_of_turn>user\nHi", true, true).front(), tok.bos());
        QCOMPARE(tok.encode("", true, true), std::vector<int32_t>{tok.bos()});
        QVERIFY(tok.encode("", false, true).empty());
        QVERIFY(!tok.find_token("no such token at all").has_value());
        QCOMPARE(thrown([&] { tok.token_to_piece(262144); }).code(), v4::ErrorCode::invalid_argument);
        QCOMPARE(thrown([&] { tok.token_to_piece(-1); }).code(), v4::ErrorCode::invalid_argument);
    }

    void deepseekMetadata() {
        const v4::tokenizer tok =
            v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/deepseek-r1-distill-qwen-7b.vocab.gguf")).toStdString());
        QCOMPARE(tok.n_vocab(), 152064);
        QCOMPARE(tok.model(), std::string("gpt2"));
        QCOMPARE(tok.bos(), 151646);
        QCOMPARE(tok.eos(), 151643);
        QVERIFY(tok.is_eog(151643));
        QCOMPARE(tok.token_text(151643), std::string("<｜end▁of▁sentence｜>"));
        QCOMPARE(tok.encode("<｜User｜>hi", false, true).front(), *tok.find_token("<｜User｜>"));
        QCOMPARE(tok.encode("<think>", false, false), std::vector<int32_t>{*tok.find_token("<think>")});
        QCOMPARE(tok.token_to_piece(*tok.find_token("\xC4\xA0hello")), std::string(" hello")); // "Ġhello"
        QVERIFY(!tok.chat_template().empty());
    }

    // Emoji bytes arrive one token at a time: nothing is emitted until the character is complete.
    void streamingHoldsPartialCharacters() {
        const v4::tokenizer tok = v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/deepseek-r1-distill-qwen-7b.vocab.gguf")).toStdString());
        // The first rare character the vocabulary spells with several byte tokens.
        std::vector<int32_t> ids;
        std::string          ch;
        for (const char * c : {"🤗", "𪚥", "𠀁", "🫥", "ᚦ"}) {
            ids = tok.encode(c, false, true);
            ch  = c;
            if (ids.size() >= 2) {
                break;
            }
        }
        QVERIFY(ids.size() >= 2);
        v4::utf8_stream stream(tok);
        std::string out;
        for (size_t i = 0; i + 1 < ids.size(); ++i) {
            QCOMPARE(stream.push(ids[i]), std::string());
        }
        out = stream.push(ids.back());
        QCOMPARE(out, ch);
        QCOMPARE(stream.finish(), std::string());

        // A cut-off character is flushed as U+FFFD; a stray continuation byte immediately.
        v4::utf8_stream raw(tok);
        QCOMPARE(raw.push_bytes("a\xF0\x9F"), std::string("a"));
        QCOMPARE(raw.push_bytes("\xA4"), std::string());
        QCOMPARE(raw.finish(), std::string("\xEF\xBF\xBD"));
        QCOMPARE(raw.push_bytes("\x80x"), std::string("\xEF\xBF\xBDx"));
        QCOMPARE(raw.push_bytes("\xE6\x97\xA5"), std::string("日"));
    }

    void invalidUtf8InputIsReplaced() {
        const v4::tokenizer gemma = v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/gemma-3-270m.vocab.gguf")).toStdString());
        const v4::tokenizer ds = v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/deepseek-r1-distill-qwen-7b.vocab.gguf")).toStdString());
        const std::string bad[] = {"\xFF", "a\xC3", "\xE6\x97", "x\x80y", "\xED\xA0\x80 surrogate", "\xC0\xAF overlong",
                                   "\xF4\x90\x80\x80 too big", std::string("nul\0inside", 10)};
        for (const std::string & s : bad) {
            const std::string clean = v4::utf8_sanitize(s);
            for (const v4::tokenizer * tok : {&gemma, &ds}) {
                const auto ids = tok->encode(s, false, true);
                QCOMPARE(ids, tok->encode(clean, false, true));
                QCOMPARE(tok->decode(ids), clean);
            }
        }
        QCOMPARE(v4::utf8_sanitize("\xE6\x97"), std::string("\xEF\xBF\xBD"));
        QCOMPARE(v4::utf8_sanitize("\xE6\x97x"), std::string("\xEF\xBF\xBDx"));
        QCOMPARE(v4::utf8_sanitize("\xC0\xAF"), std::string("\xEF\xBF\xBD\xEF\xBF\xBD"));
    }

    void encodesOneMegabyte() {
        const v4::tokenizer tok = v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/gemma-3-270m.vocab.gguf")).toStdString());
        const v4::tokenizer ds = v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/deepseek-r1-distill-qwen-7b.vocab.gguf")).toStdString());
        std::string text;
        size_t      k = 0;
        while (text.size() < (1u << 20)) {
            text += m_strings[k++ % m_strings.size()];
            text += ' ';
        }
        // The time is reported, not asserted: speed belongs to benchmarks, and sanitizer builds
        // are ten times slower. Typically ~0.2 s of CPU per model in a Release build.
        for (const v4::tokenizer * t : {&tok, &ds}) {
            const std::clock_t start = std::clock();
            const auto         ids   = t->encode(text, false, true);
            const auto ms = static_cast<long>((std::clock() - start) * 1000.0 / CLOCKS_PER_SEC);
            qInfo().noquote() << QString::fromStdString(t->model()) << ": 1 MiB ->" << ids.size() << "tokens in" << ms
                              << "ms CPU";
            QVERIFY(ids.size() > text.size() / 16); // every part of the megabyte was tokenized
        }
        // Pathological runs: one regex match (or one SentencePiece word) a megabyte long.
        for (const std::string & run : {std::string(1u << 20, ' '), std::string(1u << 20, 'a'), std::string(1u << 19, '\n')}) {
            for (const v4::tokenizer * t : {&tok, &ds}) {
                const auto ids = t->encode(run, false, true);
                QVERIFY(!ids.empty());
                QCOMPARE(t->decode(ids), run);
            }
        }
    }

    void badVocabularies() {
        using v4::ErrorCode;
        const auto expect = [](v4::tokenizer_vocab v, ErrorCode code, const char * fragment) {
            const v4::Error e = thrown([&] { v4::tokenizer t(std::move(v)); });
            QCOMPARE(e.code(), code);
            QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
        };
        v4::tokenizer_vocab v = tinySpm();
        {
            v4::tokenizer ok(v);
            // add_space_prefix defaults to true: "ab ab" -> "\u2581ab\u2581ab", and decode drops the prefix again.
            QCOMPARE(ok.encode("ab ab", false, false), (std::vector<int32_t>{7, 7}));
            QCOMPARE(ok.decode({7, 7}), std::string("ab ab"));
            QCOMPARE(ok.encode("ab", true, false), (std::vector<int32_t>{1, 7}));
        }
        v.model = "bert";
        expect(v, ErrorCode::unsupported, "tokenizer.ggml.model 'bert' is not supported");
        v = tinySpm();
        v.scores.pop_back();
        expect(v, ErrorCode::format, "tokenizer.ggml.scores has 7 entries but tokenizer.ggml.tokens has 8");
        v = tinySpm();
        v.types.push_back(1);
        expect(v, ErrorCode::format, "tokenizer.ggml.token_type has 9 entries");
        v = tinySpm();
        v.types[4] = 9;
        expect(v, ErrorCode::format, "tokenizer.ggml.token_type[4] = 9");
        v = tinySpm();
        v.bos_id = 8;
        expect(v, ErrorCode::format, "tokenizer.ggml.bos_token_id = 8 is out of range");
        v = tinySpm();
        v.eos_id = -1;
        expect(v, ErrorCode::format, "tokenizer.ggml.eos_token_id = -1 is out of range");
        v = tinySpm();
        v.tokens.clear();
        v.scores.clear();
        v.types.clear();
        expect(v, ErrorCode::format, "tokenizer.ggml.tokens is empty");

        v4::tokenizer_vocab b;
        b.model  = "gpt2";
        b.pre    = "qwen2";
        for (int c = 0; c < 256; ++c) { // a vocabulary of the 256 byte letters only
            b.tokens.push_back(std::string(1, '\0'));
        }
        expect(b, ErrorCode::format, "tokenizer.ggml.merges is missing");
        b.merges = {"a"};
        b.pre    = "no-such-pre";
        expect(b, ErrorCode::unsupported, "tokenizer.ggml.pre 'no-such-pre' is not a supported pre-tokenizer");
    }

    void missingKeysInGguf() {
        const auto open = [](const v4test::gguf_builder & g) {
            const v4test::bytes img = g.build();
            const v4::gguf::file f = v4::gguf::file::from_memory(img, "t.gguf");
            return thrown([&] { v4::tokenizer::from_gguf(f); });
        };
        v4test::gguf_builder g;
        g.kv_string("general.architecture", "llama");
        v4::Error e = open(g);
        QCOMPARE(e.code(), v4::ErrorCode::format);
        QVERIFY2(std::string(e.what()).find("'tokenizer.ggml.model' is missing") != std::string::npos, e.what());

        g.kv_string("tokenizer.ggml.model", "llama");
        e = open(g);
        QVERIFY2(std::string(e.what()).find("'tokenizer.ggml.tokens' is missing") != std::string::npos, e.what());

        g.kv_string_array("tokenizer.ggml.tokens", {"<unk>", "a"});
        e = open(g);
        QVERIFY2(std::string(e.what()).find("'tokenizer.ggml.scores' is missing") != std::string::npos, e.what());

        g.kv_array<float>("tokenizer.ggml.scores", v4test::vt_f32, {0.0f});
        e = open(g);
        QVERIFY2(std::string(e.what()).find("tokenizer.ggml.scores has 1 entries but tokenizer.ggml.tokens has 2") !=
                     std::string::npos, e.what());

        v4test::gguf_builder h;
        h.kv_string("tokenizer.ggml.model", "t5");
        h.kv_string_array("tokenizer.ggml.tokens", {"a"});
        h.kv_array<float>("tokenizer.ggml.scores", v4test::vt_f32, {0.0f});
        e = open(h);
        QCOMPARE(e.code(), v4::ErrorCode::unsupported);
        QVERIFY2(std::string(e.what()).find("'t5'") != std::string::npos, e.what());

        v4test::gguf_builder m;
        m.kv_string("tokenizer.ggml.model", "gpt2");
        m.kv_string_array("tokenizer.ggml.tokens", {"a"});
        e = open(m);
        QVERIFY2(std::string(e.what()).find("'tokenizer.ggml.merges' is missing") != std::string::npos, e.what());

        v4test::gguf_builder s;
        s.kv_string("tokenizer.ggml.model", "llama");
        s.kv_string_array("tokenizer.ggml.tokens", {"<unk>", "a"});
        s.kv_array<float>("tokenizer.ggml.scores", v4test::vt_f32, {0.0f, 0.0f});
        s.kv<uint32_t>("tokenizer.ggml.bos_token_id", v4test::vt_u32, 7);
        e = open(s);
        QVERIFY2(std::string(e.what()).find("tokenizer.ggml.bos_token_id = 7 is out of range (the vocabulary has 2 tokens)") !=
                     std::string::npos, e.what());
    }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
