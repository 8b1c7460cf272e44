#include "MarkdownRenderer.h"

#include <QRegularExpression>
#include <QVector>

namespace v4ui {

namespace {

bool isFence(const QString & line, QString * info = nullptr) {
    const QString t = line.trimmed();
    if (t.startsWith(QLatin1String("```")) || t.startsWith(QLatin1String("~~~"))) {
        if (info) {
            *info = t.mid(3).trimmed();
        }
        return true;
    }
    return false;
}

bool isBlank(const QString & line) { return line.trimmed().isEmpty(); }

int indentOf(const QString & line) {
    int n = 0;
    for (QChar c : line) {
        if (c == QLatin1Char(' ')) n += 1;
        else if (c == QLatin1Char('\t')) n += 4;
        else break;
    }
    return n;
}

const QRegularExpression & listItemPattern() {
    static const QRegularExpression re(QStringLiteral("^(\\s*)([-*+]|(\\d{1,9})[.)])\\s+(.*)$"));
    return re;
}

bool isRule(const QString & line) {
    static const QRegularExpression re(QStringLiteral("^\\s{0,3}([-*_])(\\s*\\1){2,}\\s*$"));
    return re.match(line).hasMatch();
}

bool isTableSeparator(const QString & line) {
    static const QRegularExpression re(QStringLiteral("^\\s*\\|?\\s*:?-{2,}:?\\s*(\\|\\s*:?-{2,}:?\\s*)*\\|?\\s*$"));
    return line.contains(QLatin1Char('|')) || line.count(QLatin1Char('-')) >= 3 ? re.match(line).hasMatch() : false;
}

QStringList tableCells(QString line) {
    line = line.trimmed();
    if (line.startsWith(QLatin1Char('|'))) line.remove(0, 1);
    if (line.endsWith(QLatin1Char('|')) && !line.endsWith(QLatin1String("\\|"))) line.chop(1);
    QStringList cells;
    QString     cell;
    for (int i = 0; i < line.size(); ++i) {
        if (line[i] == QLatin1Char('\\') && i + 1 < line.size() && line[i + 1] == QLatin1Char('|')) {
            cell += QLatin1Char('|');
            ++i;
        } else if (line[i] == QLatin1Char('|')) {
            cells << cell.trimmed();
            cell.clear();
        } else {
            cell += line[i];
        }
    }
    cells << cell.trimmed();
    return cells;
}

QString safeUrl(const QString & url) {
    const QString lower = url.trimmed().toLower();
    if (lower.startsWith(QLatin1String("http://")) || lower.startsWith(QLatin1String("https://")) ||
        lower.startsWith(QLatin1String("mailto:")) || lower.startsWith(QLatin1String("v4cite:"))) {
        return url.trimmed();
    }
    return {};
}

// Inline spans of one escaped-as-we-go line. Code spans are cut out first so nothing inside them
// is interpreted; the rest is escaped, then the emphasis and link patterns run on escaped text
// (their delimiters contain no characters that escaping changes).
QString inlineHtml(const QString & text, const MarkdownStyle & style) {
    QString out;
    int     i = 0;
    while (i < text.size()) {
        const int tick = text.indexOf(QLatin1Char('`'), i);
        const int end  = tick < 0 ? -1 : text.indexOf(QLatin1Char('`'), tick + 1);
        const int stop = (tick < 0 || end < 0) ? text.size() : tick;
        QString   plain = text.mid(i, stop - i).toHtmlEscaped();

        // Link text may hold one level of brackets: citations read [[1]](v4cite:<chunk id>).
        static const QRegularExpression link(QStringLiteral("\\[((?:[^\\[\\]]|\\[[^\\]]*\\])+)\\]\\(([^)\\s]+)\\)"));
        static const QRegularExpression bare(QStringLiteral("(^|[\\s(])(https?://[^\\s<)]+)"));
        static const QRegularExpression bold(QStringLiteral("(\\*\\*|__)(?=\\S)(.+?)(?<=\\S)\\1"));
        static const QRegularExpression italic(QStringLiteral("(?<![\\w*])([*_])(?=\\S)(.+?)(?<=\\S)\\1(?![\\w*])"));
        static const QRegularExpression strike(QStringLiteral("~~(?=\\S)(.+?)(?<=\\S)~~"));
        // Links become placeholders first so emphasis inside a URL is left alone.
        QStringList anchors;
        auto keep = [&anchors](const QString & html) {
            anchors << html;
            return QStringLiteral("\x01%1\x02").arg(anchors.size() - 1);
        };
        QString withLinks;
        int     last = 0;
        for (auto it = link.globalMatch(plain); it.hasNext();) {
            const auto    m   = it.next();
            const QString url = safeUrl(m.captured(2));
            withLinks += plain.mid(last, m.capturedStart() - last);
            withLinks += url.isEmpty() ? m.captured(1)
                                       : keep(QStringLiteral("<a href=\"%1\" style=\"color:%3\">%2</a>").arg(url, m.captured(1), style.link));
            last = m.capturedEnd();
        }
        withLinks += plain.mid(last);
        plain.clear();
        last = 0;
        for (auto it = bare.globalMatch(withLinks); it.hasNext();) {
            const auto m = it.next();
            plain += withLinks.mid(last, m.capturedStart(2) - last);
            plain += keep(QStringLiteral("<a href=\"%1\" style=\"color:%2\">%1</a>").arg(m.captured(2), style.link));
            last = m.capturedEnd(2);
        }
        plain += withLinks.mid(last);
        plain.replace(bold, QStringLiteral("<b>\\2</b>"));
        plain.replace(italic, QStringLiteral("<i>\\2</i>"));
        plain.replace(strike, QStringLiteral("<s>\\1</s>"));
        for (int a = 0; a < anchors.size(); ++a) {
            plain.replace(QStringLiteral("\x01%1\x02").arg(a), anchors.at(a));
        }
        out += plain;
        if (stop == text.size()) {
            break;
        }
        out += QStringLiteral("<code style=\"font-family:%1; background-color:%2\">&nbsp;%3&nbsp;</code>")
                   .arg(style.monospace, style.codeBackground, text.mid(tick + 1, end - tick - 1).toHtmlEscaped());
        i = end + 1;
    }
    return out;
}

class BlockRenderer {
public:
    BlockRenderer(const QStringList & lines, const MarkdownStyle & style, int firstCodeBlock)
        : m_lines(lines), m_style(style), m_firstCodeBlock(firstCodeBlock) {}

    MarkdownHtml run() {
        while (m_pos < m_lines.size()) {
            const QString & line = m_lines.at(m_pos);
            if (isBlank(line)) {
                ++m_pos;
            } else if (isFence(line)) {
                codeBlock();
            } else if (line.trimmed().startsWith(QLatin1Char('#')) && heading()) {
            } else if (isRule(line)) {
                m_out.html += QStringLiteral("<hr>");
                ++m_pos;
            } else if (line.trimmed().startsWith(QLatin1Char('>'))) {
                quote();
            } else if (m_pos + 1 < m_lines.size() && line.contains(QLatin1Char('|')) && isTableSeparator(m_lines.at(m_pos + 1))) {
                table();
            } else if (listItemPattern().match(line).hasMatch()) {
                list();
            } else {
                paragraph();
            }
        }
        return m_out;
    }

private:
    void codeBlock() {
        QString info;
        isFence(m_lines.at(m_pos++), &info);
        QStringList code;
        while (m_pos < m_lines.size() && !isFence(m_lines.at(m_pos))) {
            code << m_lines.at(m_pos++);
        }
        ++m_pos; // the closing fence (or the end)
        const int index = m_firstCodeBlock + static_cast<int>(m_out.codeBlocks.size());
        m_out.codeBlocks << code.join(QLatin1Char('\n'));
        const QString lang = info.section(QLatin1Char(' '), 0, 0).toHtmlEscaped();
        m_out.html += QStringLiteral(
                          "<table width=\"100%\" cellspacing=\"0\" cellpadding=\"8\" style=\"margin-top:6px; margin-bottom:6px\">"
                          "<tr><td style=\"background-color:%1\"><span style=\"color:%2\">%3</span></td>"
                          "<td align=\"right\" style=\"background-color:%1\"><a href=\"copy-code:%4\" style=\"color:%5; text-decoration:none\">Copy</a></td></tr>"
                          "<tr><td colspan=\"2\" style=\"background-color:%6\"><pre style=\"font-family:%7\">%8</pre></td></tr></table>")
                          .arg(m_style.codeHeader, m_style.muted, lang.isEmpty() ? QStringLiteral("code") : lang)
                          .arg(index)
                          .arg(m_style.link, m_style.codeBackground, m_style.monospace,
                               code.join(QLatin1Char('\n')).toHtmlEscaped());
    }

    bool heading() {
        static const QRegularExpression re(QStringLiteral("^\\s{0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$"));
        const auto m = re.match(m_lines.at(m_pos));
        if (!m.hasMatch()) {
            return false;
        }
        const int level = qMin(static_cast<int>(m.captured(1).size()) + 1, 6); // h1 is too loud inside a chat bubble
        m_out.html += QStringLiteral("<h%1>%2</h%1>").arg(level).arg(inlineHtml(m.captured(2), m_style));
        ++m_pos;
        return true;
    }

    void quote() {
        QStringList inner;
        while (m_pos < m_lines.size() && m_lines.at(m_pos).trimmed().startsWith(QLatin1Char('>'))) {
            QString l = m_lines.at(m_pos++).trimmed().mid(1);
            inner << (l.startsWith(QLatin1Char(' ')) ? l.mid(1) : l);
        }
        const MarkdownHtml nested = BlockRenderer(inner, m_style, m_firstCodeBlock + static_cast<int>(m_out.codeBlocks.size())).run();
        m_out.codeBlocks += nested.codeBlocks;
        m_out.html += QStringLiteral("<blockquote style=\"color:%1\">%2</blockquote>").arg(m_style.muted, nested.html);
    }

    void table() {
        const QStringList header = tableCells(m_lines.at(m_pos));
        const QStringList align  = tableCells(m_lines.at(m_pos + 1));
        m_pos += 2;
        auto alignOf = [&align](int c) {
            if (c >= align.size()) return QStringLiteral("left");
            const QString a = align.at(c);
            if (a.startsWith(QLatin1Char(':')) && a.endsWith(QLatin1Char(':'))) return QStringLiteral("center");
            if (a.endsWith(QLatin1Char(':'))) return QStringLiteral("right");
            return QStringLiteral("left");
        };
        QString html = QStringLiteral("<table border=\"1\" cellspacing=\"0\" cellpadding=\"6\" style=\"border-color:%1; border-style:solid; margin-top:6px; margin-bottom:6px\"><tr>").arg(m_style.border);
        for (int c = 0; c < header.size(); ++c) {
            html += QStringLiteral("<th align=\"%1\" style=\"background-color:%2\">%3</th>").arg(alignOf(c), m_style.codeBackground, inlineHtml(header.at(c), m_style));
        }
        html += QStringLiteral("</tr>");
        while (m_pos < m_lines.size() && !isBlank(m_lines.at(m_pos)) && m_lines.at(m_pos).contains(QLatin1Char('|'))) {
            const QStringList cells = tableCells(m_lines.at(m_pos++));
            html += QStringLiteral("<tr>");
            for (int c = 0; c < header.size(); ++c) {
                html += QStringLiteral("<td align=\"%1\">%2</td>").arg(alignOf(c), c < cells.size() ? inlineHtml(cells.at(c), m_style) : QString());
            }
            html += QStringLiteral("</tr>");
        }
        m_out.html += html + QStringLiteral("</table>");
    }

    // Items nest when indented deeper than their list's first item; a blank line between items
    // keeps the list going, anything else less indented ends it.
    void list() {
        struct Level { int indent; bool ordered; };
        QVector<Level> stack;
        QString        html;
        while (m_pos < m_lines.size()) {
            const QString & line = m_lines.at(m_pos);
            if (isBlank(line)) {
                if (m_pos + 1 < m_lines.size() && listItemPattern().match(m_lines.at(m_pos + 1)).hasMatch()) {
                    ++m_pos;
                    continue;
                }
                break;
            }
            const auto m = listItemPattern().match(line);
            if (!m.hasMatch()) {
                if (stack.isEmpty() || indentOf(line) <= stack.first().indent || isFence(line)) {
                    break;
                }
                html += QStringLiteral("<br>") + inlineHtml(line.trimmed(), m_style); // continuation line
                ++m_pos;
                continue;
            }
            const int  indent  = indentOf(line);
            const bool ordered = !m.captured(3).isEmpty();
            // Close deeper lists, and a list of the other kind at this depth ("- a" then "1. b").
            while (!stack.isEmpty() && (indent < stack.last().indent ||
                                        (indent == stack.last().indent && ordered != stack.last().ordered))) {
                html += stack.last().ordered ? QStringLiteral("</ol>") : QStringLiteral("</ul>");
                stack.removeLast();
            }
            if (stack.isEmpty() || indent > stack.last().indent) {
                stack.append({indent, ordered});
                html += ordered ? QStringLiteral("<ol start=\"%1\">").arg(m.captured(3).toInt()) : QStringLiteral("<ul>");
            }
            html += QStringLiteral("<li>") + inlineHtml(m.captured(4), m_style);
            ++m_pos;
        }
        while (!stack.isEmpty()) {
            html += stack.last().ordered ? QStringLiteral("</ol>") : QStringLiteral("</ul>");
            stack.removeLast();
        }
        m_out.html += html;
    }

    // Lines of a paragraph keep their breaks: chat models mean a newline as a line break.
    void paragraph() {
        QStringList parts;
        while (m_pos < m_lines.size()) {
            const QString & line = m_lines.at(m_pos);
            if (isBlank(line) || isFence(line) || isRule(line) || line.trimmed().startsWith(QLatin1Char('#')) ||
                line.trimmed().startsWith(QLatin1Char('>')) || (!parts.isEmpty() && listItemPattern().match(line).hasMatch())) {
                break;
            }
            parts << inlineHtml(line.trimmed(), m_style);
            ++m_pos;
        }
        m_out.html += QStringLiteral("<p>") + parts.join(QStringLiteral("<br>")) + QStringLiteral("</p>");
    }

    const QStringList &   m_lines;
    const MarkdownStyle & m_style;
    int                   m_firstCodeBlock;
    int                   m_pos = 0;
    MarkdownHtml          m_out;
};

} // namespace

MarkdownHtml renderMarkdown(const QString & markdown, const MarkdownStyle & style, int firstCodeBlock) {
    QString text = markdown;
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    const QStringList lines = text.split(QLatin1Char('\n'));
    return BlockRenderer(lines, style, firstCodeBlock).run();
}

QString renderInlineMarkdown(const QString & text, const MarkdownStyle & style) { return inlineHtml(text, style); }

int MarkdownStreamSplitter::settledLength(const QString & text) {
    for (;;) {
        const int newline = text.indexOf(QLatin1Char('\n'), m_scanned);
        if (newline < 0) {
            return m_settled;
        }
        const QString line = text.mid(m_scanned, newline - m_scanned);
        m_scanned          = newline + 1;
        if (isFence(line)) {
            m_inFence = !m_inFence;
            if (!m_inFence) {
                m_settled = m_scanned;
            }
        } else if (!m_inFence && isBlank(line)) {
            m_settled = m_scanned;
        }
    }
}

} // namespace v4ui
