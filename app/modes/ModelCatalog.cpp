#include "modes/ModelCatalog.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QLocale>
#include <QRegularExpression>

#include <algorithm>

#include "v4/chat.h"
#include "v4/error.h"
#include "v4/model.h"
#include "v4/tokenizer.h"

namespace v4app {

namespace {

// Norms and biases stay f32 in every quantized file; the weights' type is the common non-f32 one.
QString dominantType(const std::map<std::string, uint32_t> & types) {
    std::string best;
    uint32_t    bestCount = 0;
    for (const auto & [type, count] : types) {
        if (type != "f32" && count > bestCount) {
            best = type;
            bestCount = count;
        }
    }
    return best.empty() ? QStringLiteral("f32") : QString::fromStdString(best);
}

// The quantization a file's name announces ("...-Q4_K_M.gguf"); llama.cpp keeps some tensors in
// other types (Q5_0 where a row is not a multiple of 256), so the name is what people know it by.
QString quantizationFromName(const QString & path) {
    static const QRegularExpression tag(QStringLiteral(R"((?:^|[-_.])((?:I?Q\d(?:_K)?(?:_[0-9A-Z]+)?)|BF16|F16|F32|MXFP4)(?:[-_.]|$))"),
                                        QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch m = tag.match(QFileInfo(path).completeBaseName());
    return m.hasMatch() ? m.captured(1).toUpper() : QString();
}

} // namespace

ModelMetadata readModelMetadata(const QString & path) {
    ModelMetadata m;
    m.path = path;
    const QFileInfo info(path);
    if (!info.isFile()) {
        m.error = QObject::tr("The file does not exist: %1").arg(path);
        return m;
    }
    m.fileSize = static_cast<quint64>(info.size());
    const std::string native = QFile::encodeName(path).toStdString();
    try {
        const auto model = v4::model::load(native);
        const v4::model_info & mi = model->info();
        m.name = QString::fromStdString(mi.name);
        m.architecture = QString::fromStdString(mi.architecture);
        m.parameters = mi.n_params;
        const QString dominant = dominantType(mi.tensor_types).toUpper();
        const QString named = quantizationFromName(path);
        m.quantization = named.isEmpty() || named == dominant ? dominant
                                                              : QObject::tr("%1 (most tensors %2)").arg(named, dominant);
        m.contextLength = mi.n_ctx_train;
        const v4::tokenizer tok = v4::tokenizer::open(native);
        m.chatTemplate = QString::fromStdString(tok.chat_template());
        if (!m.chatTemplate.isEmpty()) {
            m.templateNote = QObject::tr("from the file");
        } else {
            try {
                (void)v4::builtin_chat_template(mi.architecture);
                m.templateNote = QObject::tr("none in the file; the built-in %1 template is used").arg(m.architecture);
            } catch (const v4::Error &) {
                m.templateNote = QObject::tr("none (plain text completion only)");
            }
        }
        m.ok = true;
    } catch (const v4::Error & e) {
        m.error = QString::fromStdString(e.what());
    } catch (const std::exception & e) {
        m.error = QObject::tr("Could not read the model: %1").arg(QString::fromStdString(e.what()));
    }
    return m;
}

QStringList scanForModels(const QString & folder, int maxDepth) {
    QStringList found;
    const QString root = QDir::cleanPath(folder);
    const int rootDepth = static_cast<int>(root.count(QLatin1Char('/')));
    QDirIterator it(root, {QStringLiteral("*.gguf")}, QDir::Files | QDir::Readable, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = QDir::cleanPath(it.next());
        if (path.count(QLatin1Char('/')) - rootDepth <= maxDepth) {
            found << path;
        }
    }
    std::sort(found.begin(), found.end());
    return found;
}

QString humanParameterCount(quint64 n) {
    if (n >= 1'000'000'000ull) return QString::number(n / 1e9, 'f', 2) + QStringLiteral(" B");
    if (n >= 1'000'000ull) return QString::number(n / 1e6, 'f', 0) + QStringLiteral(" M");
    return QString::number(n);
}

QString humanFileSize(quint64 bytes) {
    return QLocale::c().formattedDataSize(static_cast<qint64>(bytes), 1, QLocale::DataSizeSIFormat);
}

} // namespace v4app
