// EngineTokenCounter: a TokenCounter backed by a model's own tokenizer (v4::tokenizer), so budgets
// are exact for the model that answers. The fingerprint names the GGUF file (name and size): counts
// cached for one model's vocabulary are never reused for another's.
//
// Thread contract: the tokenizer is immutable; count() may run on any thread.
#pragma once

#include "documents/DocumentStore.h"

#include <memory>

namespace v4 {
class tokenizer;
}

namespace v4app::documents {

class EngineTokenCounter final : public TokenCounter {
public:
    // Reads the tokenizer from the GGUF file; nullptr (and `error`) when it cannot.
    static std::unique_ptr<EngineTokenCounter> open(const QString & ggufPath, QString * error);
    ~EngineTokenCounter() override;

    QString fingerprint() const override { return m_fingerprint; }
    int     count(const QString & text) const override;

private:
    EngineTokenCounter(std::unique_ptr<v4::tokenizer> tokenizer, QString fingerprint);
    std::unique_ptr<v4::tokenizer> m_tokenizer;
    QString                        m_fingerprint;
};

} // namespace v4app::documents
