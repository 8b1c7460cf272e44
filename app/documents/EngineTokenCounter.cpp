#include "documents/EngineTokenCounter.h"

#include "v4/error.h"
#include "v4/tokenizer.h"

#include <QFileInfo>

namespace v4app::documents {

EngineTokenCounter::EngineTokenCounter(std::unique_ptr<v4::tokenizer> tokenizer, QString fingerprint)
    : m_tokenizer(std::move(tokenizer)), m_fingerprint(std::move(fingerprint)) {}

EngineTokenCounter::~EngineTokenCounter() = default;

std::unique_ptr<EngineTokenCounter> EngineTokenCounter::open(const QString & ggufPath, QString * error) {
    try {
        auto            tok = std::make_unique<v4::tokenizer>(v4::tokenizer::open(ggufPath.toStdString()));
        const QFileInfo info(ggufPath);
        const QString   fp = QStringLiteral("v4:%1:%2:%3").arg(info.fileName()).arg(info.size()).arg(tok->n_vocab());
        return std::unique_ptr<EngineTokenCounter>(new EngineTokenCounter(std::move(tok), fp));
    } catch (const v4::Error & e) {
        if (error) {
            *error = QStringLiteral("Could not read the tokenizer of %1: %2").arg(ggufPath, QString::fromUtf8(e.what()));
        }
        return nullptr;
    }
}

int EngineTokenCounter::count(const QString & text) const {
    return int(m_tokenizer->encode(text.toStdString(), false, false).size());
}

} // namespace v4app::documents
