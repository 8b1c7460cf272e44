#include "modes/Router.h"

#include <QRegularExpression>
#include <QSet>

#include <algorithm>

namespace v4app {

namespace {

QRegularExpression ci(const char * pattern) {
    return QRegularExpression(QString::fromUtf8(pattern),
                              QRegularExpression::CaseInsensitiveOption | QRegularExpression::UseUnicodePropertiesOption);
}

bool has(const QString & text, const QRegularExpression & re) { return re.match(text).hasMatch(); }

// Different words of one kind ("root cause" and "implications") weigh more than one word.
int distinctMatches(const QString & text, const QRegularExpression & re) {
    QSet<QString> words;
    for (auto it = re.globalMatch(text); it.hasNext() && words.size() < 3;) {
        words.insert(it.next().captured(0).toLower());
    }
    return static_cast<int>(words.size());
}

struct Signal {
    int     weight;
    QString reason;
};

// Lines that read like source code, a shell session or a stack trace.
int codeLikeLines(const QString & text) {
    static const QRegularExpression line = ci(
        R"(^\s*(#include\s*[<"]|def \w+\(|class \w+[:({]|fn \w+\(|func \w+\(|function\s*\w*\()"
        R"(|(public|private|static|const|let|var|int|void|auto|return|import|from \S+ import)\b.*[;=({])"
        R"(|.*[;{}]\s*$|.*\)\s*(=>|->)\s*|\s*(SELECT|INSERT|UPDATE|DELETE)\s.+\s(FROM|INTO|SET|WHERE)\s)"
        R"(|Traceback \(most recent call last\)|\s+at \S+\(\S+:\d+\)|\$ \S+.*--?\w))");
    int n = 0;
    for (const QString & l : text.split(QLatin1Char('\n'))) {
        n += has(l, line) ? 1 : 0;
    }
    return n;
}

int listItems(const QString & text) {
    static const QRegularExpression item(QStringLiteral(R"(^\s*(\d+[.)]|[-*•])\s+\S)"));
    int n = 0;
    for (const QString & l : text.split(QLatin1Char('\n'))) {
        n += has(l, item) ? 1 : 0;
    }
    return n;
}

} // namespace

QString RouteDecision::summary() const {
    const QString target = mode == ChatMode::Expert ? QStringLiteral("Expert") : QStringLiteral("Fast");
    const QString head = QStringLiteral("Auto \u2192 ") + target;
    return reasons.isEmpty() ? head : head + QStringLiteral(": ") + reasons.mid(0, 3).join(QStringLiteral(", "));
}

RouteDecision Router::route(const QString & message, const ConversationContext & context) const {
    static const QRegularExpression thinkHard = ci(
        R"(\b(think (hard|harder|carefully|deeply|it through)|take your time|reason (carefully|it out)|be thorough|thoroughly|in[- ]depth|deep dive|rigorous(ly)?|use expert mode)\b)");
    static const QRegularExpression quick = ci(
        R"(\b(quick(ly)?|briefly|brief answer|short answer|in (one|a few|\d+) (word|words|sentence|sentences)|one[- ](word|line|sentence)|tl;?dr|just (tell|give) me|yes or no|no explanation|use fast mode)\b)");
    static const QRegularExpression smallTalk = ci(
        R"(^\s*(hi|hello|hey|yo|thanks|thank you|thx|ok(ay)?|cool|great|nice|bye|good (morning|afternoon|evening|night)|how are you)\b[^\n]{0,25}$)");
    static const QRegularExpression proof = ci(R"(\b(prove|proof|derive|derivation|theorem|lemma|show that|demonstrate that)\b)");
    static const QRegularExpression latex = ci(
        R"(\$[^$\n]+\$|\\(frac|int|sum|sqrt|lim|prod|partial|alpha|beta|theta|lambda|cdot|infty|mathbb|begin\{)|[∫∑∏√≤≥≠≈∀∃∞π∂∈⊂⊆→⇒±×÷])");
    static const QRegularExpression equation = ci(
        R"(\b\d*[a-z]\s*(\^|\*\*)\s*\d|\b\d+\s*[a-z]\s*[-+]\s*\d+\s*=|\d+(\.\d+)?\s*[-+*/^×÷]\s*\d+(\.\d+)?\s*[-+*/^×÷=]\s*\d|\b(mod|log|ln|sin|cos|tan)\s*\()");
    static const QRegularExpression solve = ci(
        R"(\b(solve|calculate|compute the|integral|integrate|derivative|differentiate|probability|equation|matri(x|ces)|eigen\w*|minimi[sz]e|maximi[sz]e|expected value|big[- ]o|time complexity)\b)");
    static const QRegularExpression stepByStep = ci(R"(\b(step[- ]by[- ]step|walk me through|reason through|show (your|the) (work|reasoning))\b)");
    static const QRegularExpression asksCode = ci(
        R"(\b(write|implement|code|create|build|debug|fix|refactor|optimi[sz]e|port|convert)\b[^.?!\n]{0,40}\b(function|class|program|script|code|bug|algorithm|query|regex|method|api|parser|module|tests?|endpoint|compiler|server|shader|kernel)s?\b|\b(refactor|debug|segfault|stack trace|compile error|race condition|memory leak)\b)");
    static const QRegularExpression compare = ci(
        R"(\b(compare|comparison|versus|vs\.?|pros and cons|differences? between|which is better|better than)\b)");
    static const QRegularExpression design = ci(R"(\b(design|architect(ure)?|schema|system for)\b)");
    static const QRegularExpression plan = ci(
        R"(\b(plan|planning|strategy|roadmap|schedule|itinerary|curriculum|migration|outline a)\b)");
    static const QRegularExpression analyse = ci(
        R"(\b(analy[sz]e|analysis|evaluate|assess|critique|diagnose|root cause|implications|trade-?offs?|explain why|why does|why do|why is|why are)\b)");
    static const QRegularExpression followUp = ci(
        R"(^\s*(and|but|so|then|why|how come|what about|how about|also|what if|continue|go on|elaborate|expand|more detail|can you (also|expand|elaborate|explain)|are you sure|wait)\b)");

    RouteDecision d;
    const QString text = message.trimmed();

    // Explicit requests win over everything the text suggests.
    if (has(text, thinkHard)) {
        d.mode = ChatMode::Expert;
        d.explicitRequest = true;
        d.score = 100;
        d.reasons << QObject::tr("asks to think hard");
        return d;
    }
    if (has(text, quick)) {
        d.mode = ChatMode::Fast;
        d.explicitRequest = true;
        d.score = -100;
        d.reasons << QObject::tr("asks for a quick answer");
        return d;
    }
    if (has(text, smallTalk)) {
        d.score = -3;
        d.reasons << QObject::tr("small talk");
        return d;
    }

    QVector<Signal> signals_;
    if (text.contains(QStringLiteral("```")) || codeLikeLines(text) >= 2) {
        signals_.push_back({3, QObject::tr("contains code")});
    } else if (has(text, asksCode)) {
        signals_.push_back({3, QObject::tr("asks for code")});
    }
    if (has(text, proof)) signals_.push_back({3, QObject::tr("asks for a proof")});
    if (has(text, stepByStep)) signals_.push_back({3, QObject::tr("asks for step-by-step reasoning")});
    if (has(text, latex) || has(text, equation)) signals_.push_back({2, QObject::tr("contains maths")});
    if (has(text, solve)) signals_.push_back({2, QObject::tr("asks to solve or calculate")});
    if (has(text, design)) signals_.push_back({3, QObject::tr("asks for a design")});
    const std::pair<const QRegularExpression *, QString> wordKinds[] = {
        {&compare, QObject::tr("asks for a comparison")},
        {&plan, QObject::tr("asks for a plan")},
        {&analyse, QObject::tr("asks for analysis")},
    };
    for (const auto & [re, reason] : wordKinds) {
        if (const int n = distinctMatches(text, *re); n > 0) signals_.push_back({n >= 2 ? 3 : 2, reason});
    }
    if (text.size() > 800) {
        signals_.push_back({2, QObject::tr("long message")});
    } else if (text.size() > 300) {
        signals_.push_back({1, QObject::tr("long message")});
    }
    if (text.count(QLatin1Char('?')) >= 3) {
        signals_.push_back({1, QObject::tr("several questions")});
    } else if (listItems(text) >= 3) {
        signals_.push_back({1, QObject::tr("several requirements")});
    }
    if (context.lastMode == ChatMode::Expert && text.size() < 300 && has(text, followUp)) {
        signals_.push_back({3, QObject::tr("follows up an Expert answer")});
    }
    if (context.historyChars > 12'000) {
        signals_.push_back({1, QObject::tr("long conversation")});
    }

    std::stable_sort(signals_.begin(), signals_.end(), [](const Signal & a, const Signal & b) { return a.weight > b.weight; });
    QStringList found;
    for (const Signal & s : signals_) {
        d.score += s.weight;
        found << s.reason;
    }
    if (d.score >= m_threshold) {
        d.mode = ChatMode::Expert;
        d.reasons = found;
    } else if (found.isEmpty()) {
        d.reasons << (text.size() < 80 ? QObject::tr("short, simple message") : QObject::tr("no code, maths or multi-step wording"));
    } else {
        d.reasons << QObject::tr("only a light signal (%1)").arg(found.join(QStringLiteral(", ")));
    }
    return d;
}

} // namespace v4app
