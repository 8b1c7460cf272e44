// v4::chat_template against transformers: every case in tests/fixtures/templates/*.golden.json (written by
// tools/reference/make_template_fixtures.py from the real templates of Gemma 3, Qwen2.5, Qwen3, Llama 3.1 and
// DeepSeek-R1-Distill-Qwen) must render byte for byte; plus the interpreter's semantics and its errors.
#include "test_paths.h"

#include "v4/chat_template.h"
#include "v4/error.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>

#include <fstream>
#include <sstream>

namespace {

std::string read_text(const QString & path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        return {};
    }
    return f.readAll().toStdString();
}

std::string render(const std::string & source, const std::vector<v4::chat_message> & messages = {},
                   const v4::chat_template_options & opts = {}) {
    return v4::chat_template::parse(source).render(messages, opts);
}

// Runs fn, expects a v4::Error with `code` whose message contains `needle`; returns the message.
template <typename Fn> QString expect_error(Fn fn, v4::ErrorCode code, const QString & needle) {
    try {
        fn();
    } catch (const v4::Error & e) {
        const QString msg = QString::fromStdString(e.what());
        if (e.code() != code) {
            qWarning() << "wrong code" << v4::error_code_name(e.code()) << msg;
        }
        if (!msg.contains(needle)) {
            qWarning() << "message" << msg << "lacks" << needle;
        }
        return (e.code() == code && msg.contains(needle)) ? msg : QString();
    }
    qWarning() << "no error thrown, expected" << needle;
    return {};
}

} // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT

private slots:
    void golden_data();
    void golden();
    void golden_covers_every_template();
    void snippets_data();
    void snippets();
    void feature_probes();
    void expressions_data();
    void expressions();
    void whitespace_control_data();
    void whitespace_control();
    void errors_data();
    void errors();
    void runaway_loop_is_stopped();
    void output_is_capped();
    void raise_exception_carries_message_and_location();
};

void TestChatTemplate::golden_data() {
    QTest::addColumn<QString>("templateFile");
    QTest::addColumn<QJsonObject>("kase");
    const QDir dir(v4test::fixturePath(QStringLiteral("templates")));
    const QStringList goldens = dir.entryList({QStringLiteral("*.golden.json")}, QDir::Files, QDir::Name);
    for (const QString & g : goldens) {
        QFile f(dir.filePath(g));
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(g));
        const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
        const QString tmpl = dir.filePath(root.value(QStringLiteral("template")).toString());
        for (const QJsonValue c : root.value(QStringLiteral("cases")).toArray()) {
            const QJsonObject kase = c.toObject();
            const QString row = root.value(QStringLiteral("template")).toString() + QLatin1Char(':') +
                                kase.value(QStringLiteral("name")).toString();
            QTest::newRow(qPrintable(row)) << tmpl << kase;
        }
    }
}

void TestChatTemplate::golden() {
    QFETCH(QString, templateFile);
    QFETCH(QJsonObject, kase);
    const std::string source = read_text(templateFile);
    QVERIFY2(!source.empty(), qPrintable(templateFile));

    std::vector<v4::chat_message> messages;
    for (const QJsonValue m : kase.value(QStringLiteral("messages")).toArray()) {
        const QJsonObject o = m.toObject();
        messages.push_back({o.value(QStringLiteral("role")).toString().toStdString(),
                            o.value(QStringLiteral("content")).toString().toStdString(),
                            o.value(QStringLiteral("reasoning_content")).toString().toStdString()});
    }
    v4::chat_template_options opts;
    opts.add_generation_prompt = kase.value(QStringLiteral("add_generation_prompt")).toBool();
    const QJsonValue thinking = kase.value(QStringLiteral("enable_thinking"));
    if (thinking.isBool()) {
        opts.enable_thinking = thinking.toBool();
    }
    opts.bos_token = kase.value(QStringLiteral("bos_token")).toString().toStdString();
    opts.eos_token = kase.value(QStringLiteral("eos_token")).toString().toStdString();
    const QJsonObject extra = kase.value(QStringLiteral("extra")).toObject();
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        opts.extra[it.key().toStdString()] = it.value().toString().toStdString();
    }

    const v4::chat_template tmpl = v4::chat_template::parse(source);
    if (kase.contains(QStringLiteral("error"))) {
        const QString want = kase.value(QStringLiteral("error")).toString();
        QVERIFY(!expect_error([&] { tmpl.render(messages, opts); }, v4::ErrorCode::invalid_argument, want).isEmpty());
        return;
    }
    const std::string want = kase.value(QStringLiteral("expected")).toString().toStdString();
    QVERIFY(!want.empty()); // every template emits at least its turn markers: a blank golden is a broken fixture
    const std::string got = tmpl.render(messages, opts);
    if (got != want) {
        // Leave both sides next to the build for a diff.
        const QString base = QDir::temp().filePath(QStringLiteral("v4_template_") +
                                                   QString(QTest::currentDataTag()).replace(QRegularExpression("[^A-Za-z0-9._-]"), "_"));
        std::ofstream(base.toStdString() + ".want") << want;
        std::ofstream(base.toStdString() + ".got") << got;
        qWarning() << "mismatch, see" << base + QStringLiteral(".{want,got}");
    }
    QCOMPARE(QString::fromStdString(got), QString::fromStdString(want));
}

void TestChatTemplate::golden_covers_every_template() {
    const QDir dir(v4test::fixturePath(QStringLiteral("templates")));
    for (const QString & j : dir.entryList({QStringLiteral("*.jinja")}, QDir::Files)) {
        const QString golden = j.chopped(6) + QStringLiteral(".golden.json");
        QVERIFY2(dir.exists(golden), qPrintable(golden + " missing: run tools/reference/make_template_fixtures.py"));
    }
}

// Short templates with jinja2's output (snippets.json, same generator): expressions, filters, tests, and 300 seeded
// random mixes of text and tags with every whitespace-control marker.
void TestChatTemplate::snippets_data() {
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("expected");
    QFile f(v4test::fixturePath(QStringLiteral("templates/snippets.json")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    const QJsonArray cases = root.value(QStringLiteral("cases")).toArray();
    QVERIFY(cases.size() > 300);
    int i = 0;
    for (const QJsonValue c : cases) {
        const QJsonObject o = c.toObject();
        QTest::newRow(qPrintable(QStringLiteral("snippet%1").arg(i++, 3, 10, QLatin1Char('0'))))
            << o.value(QStringLiteral("source")).toString() << o.value(QStringLiteral("expected")).toString();
    }
}

void TestChatTemplate::snippets() {
    QFETCH(QString, source);
    QFETCH(QString, expected);
    v4::chat_template_options opts;
    opts.add_generation_prompt = false;
    opts.bos_token = "<s>";
    const std::vector<v4::chat_message> messages = {{"system", "S", ""}, {"user", " u1 ", ""}, {"assistant", "a1", "r1"}};
    QCOMPARE(QString::fromStdString(v4::chat_template::parse(source.toStdString()).render(messages, opts)), expected);
}

void TestChatTemplate::feature_probes() {
    auto load = [](const char * name) {
        return v4::chat_template::parse(read_text(v4test::fixturePath(QStringLiteral("templates/") + name)));
    };
    QVERIFY(load("qwen3.jinja").supports_thinking_switch());
    QVERIFY(!load("qwen2.5-instruct.jinja").supports_thinking_switch());
    QVERIFY(!load("gemma3.jinja").supports_thinking_switch());
    QVERIFY(load("gemma3.jinja").supports_system_role());
    QVERIFY(load("llama3.1-instruct.jinja").supports_system_role());
    QVERIFY(load("deepseek-r1-distill-qwen.jinja").supports_system_role());
    QVERIFY(!v4::chat_template::parse("{% for m in messages %}{% if m.role == 'system' %}"
                                      "{{ raise_exception('System role not supported') }}{% endif %}{% endfor %}")
                 .supports_system_role());
    QVERIFY(!v4::chat_template::parse("{% for m in messages if m.role != 'system' %}{{ m.content }}{% endfor %}")
                 .supports_system_role());
}

void TestChatTemplate::expressions_data() {
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("expected");
    auto row = [](const char * name, const char * src, const char * want) {
        QTest::newRow(name) << QString::fromUtf8(src) << QString::fromUtf8(want);
    };
    row("literals", "{{ 1 }} {{ 1.5 }} {{ 2.0 }} {{ 'a\\tb' }} {{ \"q\\\"\" }} {{ true }} {{ none }} {{ False }}",
        "1 1.5 2.0 a\tb q\" True None False");
    row("arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }}",
        "3 -4 1 2 3.5 1024 7");
    row("concat", "{{ 'a' ~ 1 ~ none ~ undefined_thing }}", "a1None");
    row("compare", "{{ 1 < 2 < 3 }} {{ 'a' in 'abc' }} {{ 3 not in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 1 == 1.0 }}",
        "True True True True True");
    row("logic", "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ not none }} {{ 'yes' if 0 else 'no' }} [{{ 'x' if false }}]",
        "x y True no []");
    row("slicing", "{{ [1, 2, 3][::-1] }} {{ 'héllo'[1:3] }} {{ [1, 2, 3, 4][-2:] }} {{ 'abc'[-1] }}",
        "[3, 2, 1] él [3, 4] c");
    row("dict_and_list_repr", "{{ {'a': [1, 'b', none]} }}", "{'a': [1, 'b', None]}");
    row("filters", "{{ '  x ' | trim }}|{{ 'ab' | upper }}|{{ [1, 2] | length }}|{{ 'été' | length }}|"
                   "{{ [3, 1] | join('-') }}|{{ [4, 5] | first }}{{ [4, 5] | last }}|{{ 'aXa' | replace('a', 'b') }}|"
                   "{{ nope | default('d') }}|{{ '12' | int + 1 }}|{{ 2.5 | round }}|{{ 'hello world' | capitalize }}",
        "x|AB|2|3|3-1|45|bXb|d|13|2.0|Hello world");
    row("tojson", "{{ {'a': 1, 'b': [true, none, 'é\"\\n'], 'c': 1.5} | tojson }}",
        "{\"a\": 1, \"b\": [true, null, \"é\\\"\\n\"], \"c\": 1.5}");
    row("tojson_indent", "{{ {'a': [1, {}]} | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    {}\n  ]\n}");
    row("select_map", "{% set xs = [{'n': 'a', 'k': 1}, {'n': 'b'}, {'n': 'c', 'k': 0}] %}"
                       "{{ xs | selectattr('k') | map(attribute='n') | join }}{{ xs | rejectattr('k', 'defined') | map(attribute='n') | join }}"
                       "{{ ['x', 'code', 'y'] | reject('equalto', 'code') | join(',') }}",
        "abx,y");
    row("string_methods", "{{ ' a b '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' x  y '.split() }}|"
                          "{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}|{{ '\\n\\nx\\n'.lstrip('\\n') }}|"
                          "{{ 'ab ab'.replace('ab', 'c', 1) }}|{{ 'hello there'.title() }}",
        "a b|['a', 'b', '', 'c']|['x', 'y']|TrueTrue|x\n|c ab|Hello There");
    row("dict_methods", "{% set d = {'a': 1, 'b': 2} %}{{ d.get('a') }}{{ d.get('z', 9) }}{{ d.get('z') }}"
                        "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.keys() | list }}{{ d | items | list }}",
        "19Nonea=1;b=2;['a', 'b'][('a', 1), ('b', 2)]");
    row("tests", "{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}"
                 "{{ [] is iterable }}{{ 1 is number }}{{ [] is sequence }}{{ true is true }}{{ 0 is false }}"
                 "{{ 3 is odd }}{{ 4 is divisibleby 2 }}{{ 'a' is not none }}",
        "FalseTrueTrueTrueTrueTrueTrueTrueTrueFalseTrueTrueTrue");
    row("undefined_chains", "[{{ nope }}][{{ nope.attr.deeper }}][{{ nope['k'][0] }}][{{ nope | length }}]"
                            "{% for x in nope %}never{% else %}empty{% endfor %}",
        "[][][][0]empty");
    row("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.length }}"
                     "{{ 'F' if loop.first }}{{ 'L' if loop.last }};{% endfor %}",
        "1033F;2123;3213L;");
    row("loop_filter_break", "{% for x in range(10) if x is odd %}{% if x > 5 %}{% break %}{% endif %}"
                             "{% if x == 3 %}{% continue %}{% endif %}{{ x }}/{{ loop.index }}/{{ loop.length }} {% endfor %}",
        "1/1/5 5/3/5 ");
    row("tuple_unpack", "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}{% set p, q = 'xy' %}{{ q }}{{ p }}",
        "37yx");
    row("scoping", "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"
                   "{% if true %}{% set y = 3 %}{% endif %}{{ y }}",
        "213");
    row("namespace", "{% set ns = namespace(n=0, s='') %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}"
                     "{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }}",
        "6 123");
    row("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
                 "{{ greet('Ann') }} {{ greet('Bo', punct='?') }}",
        "Hi Ann! Hi Bo?");
    row("set_block", "{% set block %}a{{ 1 + 1 }}b{% endset %}[{{ block }}]", "[a2b]");
    row("comments", "a{# a comment {{ x }} #}b", "ab");
    row("filter_precedence", "{{ 'x' + ' y ' | trim + 'z' }}|{{ [1, 2, 3] | length - 1 }}|{{ not nope is defined }}",
        "xyz|2|True");
    row("generation_block", "{% generation %}kept{% endgeneration %}", "kept");
    row("strftime_now", "{{ strftime_now('%Y') | length }}", "4");
}

void TestChatTemplate::expressions() {
    QFETCH(QString, source);
    QFETCH(QString, expected);
    QCOMPARE(QString::fromStdString(render(source.toStdString())), expected);
}

// trim_blocks / lstrip_blocks / '-' / '+' as jinja2.Environment(trim_blocks=True, lstrip_blocks=True) renders.
void TestChatTemplate::whitespace_control_data() {
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("expected");
    QTest::newRow("trim_blocks") << "{% if true %}\nA\n{% endif %}\nB" << "A\nB";
    QTest::newRow("lstrip_blocks") << "x\n    {% if true %}\n    y\n    {% endif %}\nz" << "x\n    y\nz";
    QTest::newRow("no_lstrip_for_output") << "  {{ 1 }}\n" << "  1";
    QTest::newRow("minus") << "a   {{- 1 -}}   \n b" << "a1b";
    QTest::newRow("minus_block") << "a\n  {%- if true -%}\n  b  {%- endif %}\nc" << "abc";
    QTest::newRow("plus_disables_lstrip") << "  {%+ if true %}x{% endif %}" << "  x";
    QTest::newRow("trailing_newline_dropped") << "a\n" << "a";
    QTest::newRow("only_one_trailing_newline") << "a\n\n" << "a\n";
    QTest::newRow("comment_trims") << "  {# c #}\nx" << "x";
    QTest::newRow("crlf") << "a\r\n{% if true %}\r\nb{% endif %}" << "a\nb";
    QTest::newRow("text_before_tag_on_line_kept") << "x {% if true %}y{% endif %}" << "x y";
}

void TestChatTemplate::whitespace_control() {
    QFETCH(QString, source);
    QFETCH(QString, expected);
    QCOMPARE(QString::fromStdString(render(source.toStdString())), expected);
}

void TestChatTemplate::errors_data() {
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    const int unsupported = static_cast<int>(v4::ErrorCode::unsupported);
    const int format = static_cast<int>(v4::ErrorCode::format);
    const int invalid = static_cast<int>(v4::ErrorCode::invalid_argument);
    QTest::newRow("include") << "a\n  {% include 'x.jinja' %}" << unsupported
                             << "chat template line 2, col 3: unsupported tag 'include'";
    QTest::newRow("import") << "{% import 'm.jinja' as m %}" << unsupported
                            << "chat template line 1, col 1: unsupported tag 'import'";
    QTest::newRow("call_block") << "{% call f() %}x{% endcall %}" << unsupported
                                << "chat template line 1, col 1: unsupported tag 'call'";
    QTest::newRow("extends") << "{% extends 'base' %}" << unsupported << "unsupported tag 'extends'";
    QTest::newRow("unknown_filter") << "line one\nline two\n{{ messages | wordcount }}" << unsupported
                                    << "chat template line 3, col 15: unsupported filter 'wordcount'";
    QTest::newRow("unknown_test") << "{% if x is prime %}{% endif %}" << unsupported
                                  << "chat template line 1, col 12: unsupported test 'prime'";
    QTest::newRow("unterminated_var") << "ok\n{{ messages" << format
                                      << "chat template line 2, col 1: unterminated '{{' tag (missing '}}')";
    QTest::newRow("unterminated_block") << "{% if true" << format
                                        << "chat template line 1, col 1: unterminated '{%' tag (missing '%}')";
    QTest::newRow("unterminated_comment") << "x {# never closed" << format
                                          << "chat template line 1, col 3: unterminated comment '{#'";
    QTest::newRow("unterminated_string") << "{{ 'abc }}" << format
                                         << "chat template line 1, col 4: unterminated string literal";
    QTest::newRow("missing_endif") << "{% if true %}x" << format
                                   << "unexpected end of template, expected '{% endif %}'";
    QTest::newRow("stray_endfor") << "{% endfor %}" << format << "chat template line 1, col 1: unexpected '{% endfor %}'";
    QTest::newRow("bad_expression") << "{{ 1 + }}" << format << "chat template line 1, col 8: unexpected '}}'";
    QTest::newRow("list_append") << "{% set xs = [] %}{{ xs.append(1) }}" << unsupported
                                 << "chat template line 1, col 23: unsupported method 'append' of list";
    QTest::newRow("unknown_method") << "{{ 'x'.zfill(3) }}" << unsupported << "unsupported method 'zfill' of 'str'";
    QTest::newRow("undefined_arithmetic") << "{{ nope + 1 }}" << invalid << "chat template line 1, col 4: 'nope' is undefined";
    QTest::newRow("type_error") << "{{ 'a' + 1 }}" << invalid << "can only concatenate str (not \"int\") to str";
    QTest::newRow("set_attr_on_non_namespace") << "{% set d = {} %}{% set d.x = 1 %}" << invalid
                                               << "it is not a namespace()";
}

void TestChatTemplate::errors() {
    QFETCH(QString, source);
    QFETCH(int, code);
    QFETCH(QString, message);
    QVERIFY(!expect_error([&] { render(source.toStdString()); }, static_cast<v4::ErrorCode>(code), message).isEmpty());
}

void TestChatTemplate::runaway_loop_is_stopped() {
    // 1000 x 1000 x 1000 iterations: stopped by the iteration cap long before it would finish.
    const std::string src = "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
                            "{% endfor %}{% endfor %}{% endfor %}";
    QVERIFY(!expect_error([&] { render(src); }, v4::ErrorCode::invalid_argument,
                          QStringLiteral("loop iteration limit of 1000000 exceeded"))
                 .isEmpty());
    QVERIFY(!expect_error([&] { render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"); },
                          v4::ErrorCode::invalid_argument, QStringLiteral("macro call depth limit of 64 exceeded"))
                 .isEmpty());
    const std::string deep = std::string(1000, '(') + "1" + std::string(1000, ')');
    QVERIFY(!expect_error([&] { render("{{ " + deep + " }}"); }, v4::ErrorCode::format,
                          QStringLiteral("nested too deeply"))
                 .isEmpty());
    std::string chain = "{{ 0";
    for (int i = 0; i < 5000; ++i) {
        chain += " + 1";
    }
    QVERIFY(!expect_error([&] { render(chain + " }}"); }, v4::ErrorCode::invalid_argument,
                          QStringLiteral("expression nested too deeply"))
                 .isEmpty());
}

void TestChatTemplate::output_is_capped() {
    // 300 x 300 x 256 bytes = 23 MB > 16 MiB.
    const std::string src = "{% set s = 'x' * 256 %}{% for a in range(300) %}{% for b in range(300) %}{{ s }}"
                            "{% endfor %}{% endfor %}";
    QVERIFY(!expect_error([&] { render(src); }, v4::ErrorCode::invalid_argument,
                          QStringLiteral("rendered output exceeds the limit of 16777216 bytes"))
                 .isEmpty());
}

void TestChatTemplate::raise_exception_carries_message_and_location() {
    const std::string gemma = read_text(v4test::fixturePath(QStringLiteral("templates/gemma3.jinja")));
    const v4::chat_template tmpl = v4::chat_template::parse(gemma);
    const QString msg = expect_error([&] { tmpl.render({{"user", "a", ""}, {"user", "b", ""}}, {}); },
                                     v4::ErrorCode::invalid_argument,
                                     QStringLiteral("Conversation roles must alternate user/assistant/user/assistant/..."));
    // The {{ raise_exception(...) }} call in gemma3.jinja is on line 19.
    QVERIFY2(msg.startsWith(QStringLiteral("chat template line 19, col 12: ")), qPrintable(msg));
}

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "test_chat_template.moc"
