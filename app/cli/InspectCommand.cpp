// v4 inspect FILE: what a model file holds, as text or --json.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>

#include "CliCommon.h"
#include "Commands.h"
#include "v4/chat.h"
#include "v4/chat_template.h"
#include "v4/tokenizer.h"

namespace v4cli {

namespace {

std::string humanBytes(uint64_t bytes) {
    char buf[64];
    if (bytes >= (1ull << 30)) {
        std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / double(1ull << 30));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / double(1ull << 20));
    }
    return buf;
}

std::string humanCount(uint64_t n) {
    char buf[64];
    if (n >= 1'000'000'000ull) {
        std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
    } else if (n >= 1'000'000ull) {
        std::snprintf(buf, sizeof buf, "%.1f M", n / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
    }
    return buf;
}

struct Special {
    const char * name;
    int32_t      id;
};

std::vector<Special> specialTokens(const v4::tokenizer & tok) {
    std::vector<Special> out;
    for (const Special s : {Special{"bos", tok.bos()}, Special{"eos", tok.eos()}, Special{"eot", tok.eot()},
                            Special{"eom", tok.eom()}, Special{"pad", tok.pad()}, Special{"unk", tok.unk()}}) {
        if (s.id >= 0 && s.id < tok.n_vocab()) {
            out.push_back(s);
        }
    }
    return out;
}

// Tensor types, most frequent first.
std::vector<std::pair<std::string, uint32_t>> typeHistogram(const v4::model_info & info) {
    std::vector<std::pair<std::string, uint32_t>> types(info.tensor_types.begin(), info.tensor_types.end());
    std::stable_sort(types.begin(), types.end(), [](const auto & a, const auto & b) { return a.second > b.second; });
    return types;
}

} // namespace

int inspectCommand(const QStringList & args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Show what a GGUF model file contains."));
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The GGUF file."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON instead of text."));
    const QCommandLineOption lines(QStringLiteral("template-lines"),
                                   QStringLiteral("Lines of the chat template to show (default 6; 0: all)."),
                                   QStringLiteral("N"), QStringLiteral("6"));
    const QCommandLineOption verbose({QStringLiteral("v"), QStringLiteral("verbose")}, QStringLiteral("Debug logs to stderr."));
    parser.addOptions({json, lines, verbose});
    if (!parseCommandLine(parser, args, QStringLiteral("v4 inspect FILE [--json]"))) {
        return k_exit_ok;
    }
    if (parser.positionalArguments().size() != 1) {
        throw UsageError("expects exactly one FILE");
    }
    const int maxLines = intValue(parser, QStringLiteral("template-lines"), 0, 1 << 20);
    setupCliLogging(parser.isSet(verbose));

    const std::string path  = QFile::encodeName(parser.positionalArguments().first()).toStdString();
    const auto        model = loadModel(path, 0);
    const v4::model_info & info = model->info();
    const std::optional<v4::tokenizer> tok(openTokenizer(path));
    // The template a chat with this file would use, chosen by the same rule as chat_runner.
    std::string templateText;
    std::string templateNote;
    bool        builtin = true;
    try {
        const v4::chat_template_choice choice = v4::choose_chat_template(v4::read_model_identity(*model), tok->chat_template());
        templateText = choice.source;
        templateNote = choice.reason;
        builtin      = choice.builtin;
    } catch (const v4::Error & e) {
        templateNote = std::string(e.what()) + "; run --raw only";
    }
    const auto       types    = typeHistogram(info);
    const auto       specials = specialTokens(*tok);

    if (parser.isSet(json)) {
        QJsonObject o;
        o[QStringLiteral("file")]           = QString::fromStdString(path);
        o[QStringLiteral("file_size")]      = static_cast<qint64>(info.file_size);
        o[QStringLiteral("architecture")]   = QString::fromStdString(info.architecture);
        o[QStringLiteral("name")]           = QString::fromStdString(info.name);
        o[QStringLiteral("n_params")]       = static_cast<qint64>(info.n_params);
        o[QStringLiteral("n_layers")]       = static_cast<qint64>(info.n_layers);
        o[QStringLiteral("n_embd")]         = static_cast<qint64>(info.n_embd);
        o[QStringLiteral("n_head")]         = static_cast<qint64>(info.n_head);
        o[QStringLiteral("n_head_kv")]      = static_cast<qint64>(info.n_head_kv);
        o[QStringLiteral("head_dim")]       = static_cast<qint64>(info.head_dim);
        o[QStringLiteral("n_ff")]           = static_cast<qint64>(info.n_ff);
        o[QStringLiteral("context_length")] = static_cast<qint64>(info.n_ctx_train);
        o[QStringLiteral("weight_bytes")]   = static_cast<qint64>(info.weight_bytes);
        if (info.n_params_active > 0) {
            o[QStringLiteral("n_params_active")] = static_cast<qint64>(info.n_params_active);
        }
        QJsonArray details;
        for (const std::string & d : info.details) {
            details.append(QString::fromStdString(d));
        }
        o[QStringLiteral("details")] = details;  // architecture-specific (deepseek4: layer schedule, experts)
        QJsonObject tt;
        for (const auto & [name, count] : info.tensor_types) {
            tt[QString::fromStdString(name)] = static_cast<qint64>(count);
        }
        o[QStringLiteral("tensor_types")] = tt;
        QJsonObject t;
        t[QStringLiteral("model")]   = QString::fromStdString(tok->model());
        t[QStringLiteral("n_vocab")] = tok->n_vocab();
        t[QStringLiteral("add_bos")] = tok->add_bos();
        QJsonObject sp;
        for (const Special & s : specials) {
            QJsonObject e;
            e[QStringLiteral("id")]   = s.id;
            e[QStringLiteral("text")] = QString::fromStdString(tok->token_text(s.id));
            sp[QLatin1String(s.name)] = e;
        }
        t[QStringLiteral("special")] = sp;
        o[QStringLiteral("tokenizer")] = t;
        QJsonObject ct;
        ct[QStringLiteral("builtin")]     = builtin;
        ct[QStringLiteral("description")] = QString::fromStdString(templateNote);
        ct[QStringLiteral("template")]    = QString::fromStdString(templateText);
        o[QStringLiteral("chat_template")] = ct;
        writeOut(QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString());
        return k_exit_ok;
    }

    std::ostringstream out;
    out << "file:           " << path << " (" << humanBytes(info.file_size) << ")\n";
    out << "architecture:   " << info.architecture << "\n";
    out << "name:           " << info.name << "\n";
    out << "parameters:     " << humanCount(info.n_params) << " (" << info.n_params << ")\n";
    out << "layers:         " << info.n_layers << " (embd " << info.n_embd << ", heads " << info.n_head << "/"
        << info.n_head_kv << ", head dim " << info.head_dim << ", ff " << info.n_ff << ")\n";
    for (const std::string & d : info.details) {  // deepseek4: schedule, attention, experts, parameters, kv
        out << "  " << d << "\n";
    }
    out << "context length: " << info.n_ctx_train << "\n";
    out << "tensor types:  ";
    for (size_t i = 0; i < types.size(); ++i) {
        out << (i ? ", " : " ") << types[i].first << " " << types[i].second;
    }
    out << " (" << humanBytes(info.weight_bytes) << " of weights)\n";
    out << "tokenizer:      " << tok->model() << ", " << tok->n_vocab() << " tokens, add bos "
        << (tok->add_bos() ? "yes" : "no") << "\n";
    out << "special tokens:";
    for (size_t i = 0; i < specials.size(); ++i) {
        out << (i ? ", " : " ") << specials[i].name << " " << specials[i].id << " '" << tok->token_text(specials[i].id) << "'";
    }
    out << "\n";
    std::istringstream       src(templateText);
    std::vector<std::string> tl;
    for (std::string line; std::getline(src, line);) {
        tl.push_back(line);
    }
    out << "chat template:  " << templateNote << "; " << tl.size() << " lines\n";
    const size_t shown = maxLines == 0 ? tl.size() : std::min<size_t>(tl.size(), maxLines);
    for (size_t i = 0; i < shown; ++i) {
        out << "    " << tl[i] << "\n";
    }
    if (shown < tl.size()) {
        out << "    ... (" << tl.size() - shown << " more lines; --template-lines 0 shows all)\n";
    }
    writeOut(out.str());
    return k_exit_ok;
}

} // namespace v4cli
