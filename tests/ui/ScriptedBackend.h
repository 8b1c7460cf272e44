// A ChatBackend that plays back a script instead of running a model, so the GUI tests are
// deterministic and fast. Each request answers with the next script (or the last one again):
// thinking pieces, then answer pieces, one piece per timer tick, then finished() with made-up
// stats. cancel() ends with failed(Cancelled) like the real backends.
#pragma once

#include <QTimer>

#include "backends/ChatBackend.h"

namespace v4test {

struct Script {
    QStringList thinking;
    QStringList answer;
};

class ScriptedBackend final : public v4app::ChatBackend {
    Q_OBJECT

public:
    explicit ScriptedBackend(QObject * parent = nullptr) : ChatBackend(parent) {
        m_timer.setInterval(1);
        connect(&m_timer, &QTimer::timeout, this, &ScriptedBackend::tick);
    }

    QVector<Script>                scripts{{{}, {QStringLiteral("Hello"), QStringLiteral(" there.")}}};
    int                            tickMs = 1;
    QVector<v4app::ChatRequest>    requests;

    QString name() const override { return QStringLiteral("scripted"); }
    bool    isBusy() const override { return m_timer.isActive(); }

    void start(const v4app::ChatRequest & request) override {
        requests.append(request);
        m_script = scripts.at(qMin(static_cast<int>(requests.size()) - 1, static_cast<int>(scripts.size()) - 1));
        m_pos    = 0;
        m_timer.start(tickMs);
    }

    void cancel() override {
        if (m_timer.isActive()) {
            m_timer.stop();
            emit failed({v4app::ChatError::Kind::Cancelled, QStringLiteral("Stopped."), 0, 0});
        }
    }

private:
    void tick() {
        const int thinking = static_cast<int>(m_script.thinking.size());
        if (m_pos < thinking) {
            emit this->thinking(m_script.thinking.at(m_pos++));
            return;
        }
        if (m_pos < thinking + m_script.answer.size()) {
            emit token(m_script.answer.at(m_pos++ - thinking));
            return;
        }
        m_timer.stop();
        v4app::GenerationStats stats;
        stats.backend          = name();
        stats.model            = QStringLiteral("scripted-model");
        stats.promptTokens     = 12;
        stats.completionTokens = static_cast<int>(m_script.answer.size());
        stats.ttftMs           = 42;
        stats.tokensPerSecond  = 123.4;
        stats.finishReason     = QStringLiteral("stop");
        emit finished(stats);
    }

    QTimer m_timer;
    Script m_script;
    int    m_pos = 0;
};

} // namespace v4test
