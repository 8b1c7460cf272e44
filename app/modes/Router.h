// Router: Auto mode's choice between Fast and Expert for one message, by how hard it looks.
// Deterministic (no model, no randomness): a score from signals in the text and the conversation,
// and short human-readable reasons for the UI ("Auto → Expert: contains code, asks for a proof").
//
//   Signal                                            score
//   explicit "think hard", "take your time", ...      Expert, always
//   explicit "quick answer", "briefly", "tl;dr", ...  Fast, always (unless also asked to think hard)
//   code fence or several code-like lines             +3   asks for a proof (prove, derive, ...)  +3
//   "step by step", "walk me through"                 +3   maths (LaTeX, symbols, equations)      +2
//   asks for code (write/implement/debug a ...)       +3   solve / calculate / integral ...       +2
//   compare, versus, pros and cons                    +2   plan, strategy, itinerary, migration   +2
//   analyse, evaluate, trade-offs, root cause         +2   (+3 when two different words of a kind)
//   design, architecture, schema                      +3   long message (>300 / >800 characters)  +1/+2
//   several questions or a list of requirements       +1   long conversation so far               +1
//   a follow-up ("why?", "and then?") to an Expert answer                                     +3
//   small talk ("thanks", "hi")                       -3
// Expert when the score reaches the threshold (ProfileStore::kDefaultAutoThreshold = 3).
//
//     Router router(profiles.autoThreshold());
//     RouteDecision d = router.route(text, {priorUserMessages, historyChars, lastMode});
//     label->setText(d.summary());
#pragma once

#include <QString>
#include <QStringList>

#include <optional>

#include "chat/ChatController.h"

namespace v4app {

struct ConversationContext {
    int                     priorUserMessages = 0; // user messages before this one
    qsizetype               historyChars = 0;      // characters of the conversation so far
    std::optional<ChatMode> lastMode;              // Fast or Expert: what answered the previous message
};

struct RouteDecision {
    ChatMode    mode = ChatMode::Fast; // Fast or Expert, never Auto
    QStringList reasons;               // short, most important first
    int         score = 0;
    bool        explicitRequest = false; // the user asked for the mode in words

    // "Auto → Expert: contains code, asks for a proof"
    QString summary() const;
};

class Router final {
public:
    explicit Router(int expertThreshold = 3) : m_threshold(expertThreshold) {}

    RouteDecision route(const QString & message, const ConversationContext & context = {}) const;
    int           threshold() const { return m_threshold; }

private:
    int m_threshold;
};

} // namespace v4app
