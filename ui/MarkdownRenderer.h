// Markdown (the GitHub-flavoured subset chat models write) to the HTML subset QTextBrowser shows:
// headings, paragraphs, bullet and numbered lists (nested by indentation), GFM pipe tables, fenced
// code blocks with a "Copy" link, block quotes, rules, **bold**, *italic*, ~~strike~~, `code`,
// [links](https://…) and bare URLs. Every piece of input text is HTML-escaped; only http(s) and
// mailto links become anchors (no javascript:, no file:), so a model cannot inject markup.
//
// Why our own renderer and not QTextDocument::setMarkdown(): we need a copy link per code block,
// control over link schemes, and HTML we can append piece by piece while an answer streams.
//
// Usage:
//     MarkdownStyle style;                         // colours from the theme
//     MarkdownHtml out = renderMarkdown(text, style, /*firstCodeBlock=*/0);
//     browser->insertHtml(out.html);               // "copy-code:N" anchors index out.codeBlocks
#pragma once

#include <QString>
#include <QStringList>

namespace v4ui {

struct MarkdownStyle {
    QString codeBackground = QStringLiteral("#f3f4f6");
    QString codeHeader     = QStringLiteral("#e5e7eb");
    QString border         = QStringLiteral("#d1d5db");
    QString muted          = QStringLiteral("#6b7280");
    QString link           = QStringLiteral("#4f5bd5");
    QString monospace      = QStringLiteral("DejaVu Sans Mono, monospace");
};

struct MarkdownHtml {
    QString     html;
    QStringList codeBlocks; // the raw text of each code block, for "copy-code:<firstCodeBlock + i>"
};

MarkdownHtml renderMarkdown(const QString & markdown, const MarkdownStyle & style, int firstCodeBlock = 0);

// Inline spans only (no blocks), HTML-escaped: for titles and one-line texts.
QString renderInlineMarkdown(const QString & text, const MarkdownStyle & style);

// Streaming: finds how much of a growing text ends at a block boundary (a blank line outside a
// code fence, or a closing fence). Rendering that prefix will not change when more text arrives,
// so it can be appended once and only the rest re-rendered. Each call scans only new lines.
class MarkdownStreamSplitter {
public:
    int settledLength(const QString & text); // text: everything streamed so far

private:
    int  m_scanned = 0; // start of the first line not scanned yet
    int  m_settled = 0;
    bool m_inFence = false;
};

} // namespace v4ui
