// The visible text of an HTML page, without a DOM: a single pass over the markup that drops
// comments, <script>/<style>/<template>/<noscript>/<head> contents and tags, turns block elements
// into line breaks, keeps <pre> as written, collapses other white space and decodes entities.
// Good enough for saved pages and exported docs; it is not a browser.
#include "documents/DocumentImporter.h"

#include <QHash>

namespace v4app::documents {

namespace {

const QHash<QString, char32_t> kEntities = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0},
    {"copy", 0xA9}, {"reg", 0xAE}, {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014},
    {"ndash", 0x2013}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"laquo", 0xAB}, {"raquo", 0xBB}, {"bull", 0x2022}, {"middot", 0xB7}, {"deg", 0xB0},
    {"euro", 0x20AC}, {"pound", 0xA3}, {"yen", 0xA5}, {"cent", 0xA2}, {"sect", 0xA7}, {"para", 0xB6},
    {"times", 0xD7}, {"divide", 0xF7}, {"plusmn", 0xB1}, {"le", 0x2264}, {"ge", 0x2265}, {"ne", 0x2260},
    {"larr", 0x2190}, {"rarr", 0x2192}, {"uarr", 0x2191}, {"darr", 0x2193}, {"shy", 0xAD},
    {"auml", 0xE4}, {"ouml", 0xF6}, {"uuml", 0xFC}, {"Auml", 0xC4}, {"Ouml", 0xD6}, {"Uuml", 0xDC},
    {"szlig", 0xDF}, {"eacute", 0xE9}, {"egrave", 0xE8}, {"ecirc", 0xEA}, {"aacute", 0xE1},
    {"agrave", 0xE0}, {"ccedil", 0xE7}, {"ntilde", 0xF1}, {"oacute", 0xF3}, {"iacute", 0xED},
    {"uacute", 0xFA}, {"Eacute", 0xC9}, {"alpha", 0x3B1}, {"beta", 0x3B2}, {"pi", 0x3C0}, {"mu", 0x3BC},
};

// Elements whose content is not text for a reader.
bool isHiddenElement(const QString & tag) {
    return tag == u"script" || tag == u"style" || tag == u"template" || tag == u"noscript" || tag == u"head" ||
           tag == u"svg";
}

bool isBlockElement(const QString & tag) {
    static const QStringList kBlocks = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3",
                                        "h4", "h5", "h6", "pre", "blockquote", "section", "article", "header",
                                        "footer", "nav", "aside", "hr", "dt", "dd", "dl", "title", "main",
                                        "figure", "figcaption", "form", "body", "html"};
    return kBlocks.contains(tag);
}

bool isParagraphElement(const QString & tag) {
    return tag == u"p" || tag == u"pre" || tag == u"blockquote" || tag == u"table" || tag == u"ul" ||
           tag == u"ol" || (tag.size() == 2 && tag[0] == u'h' && tag[1] >= u'1' && tag[1] <= u'6');
}

// Decodes the entity at html[i] == '&'; returns the number of characters consumed (0: not an entity).
qsizetype decodeEntity(const QString & html, qsizetype i, QString & out) {
    // Look only a few characters ahead: scanning to the end for every '&' would make a page full of
    // bare ampersands quadratic.
    const qsizetype semi = QStringView(html).mid(i + 1, 12).indexOf(u';') + i + 1;
    if (semi == i) {
        return 0;
    }
    const QStringView name = QStringView(html).mid(i + 1, semi - i - 1);
    char32_t          cp   = 0;
    if (name.startsWith(u'#')) {
        bool ok = false;
        cp      = (name.size() > 1 && (name[1] == u'x' || name[1] == u'X')) ? name.mid(2).toUInt(&ok, 16)
                                                                            : name.mid(1).toUInt(&ok, 10);
        if (!ok || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            cp = 0xFFFD;
        }
    } else {
        auto it = kEntities.constFind(name.toString());
        if (it == kEntities.cend()) {
            return 0;
        }
        cp = *it;
    }
    if (cp == 0xA0) {
        cp = ' ';
    }
    out += QString::fromUcs4(&cp, 1);
    return semi - i + 1;
}

} // namespace

QString htmlToText(const QString & html) {
    QString   out;
    out.reserve(html.size() / 2);
    int       preDepth = 0;
    qsizetype i        = 0;
    const qsizetype n  = html.size();

    auto newline = [&out](int count) {
        while (out.endsWith(u' ')) {
            out.chop(1);
        }
        int have = 0;
        for (qsizetype k = out.size() - 1; k >= 0 && out[k] == u'\n' && have < count; --k) {
            ++have;
        }
        if (!out.isEmpty()) {
            out += QString(count - have, u'\n');
        }
    };

    while (i < n) {
        const QChar c = html[i];
        if (c == u'<') {
            if (html.mid(i, 4) == u"<!--") {
                const qsizetype end = html.indexOf(u"-->", i + 4);
                i                   = end < 0 ? n : end + 3;
                continue;
            }
            const qsizetype close = html.indexOf(u'>', i + 1);
            if (close < 0) {
                out += html.mid(i); // a stray '<' at the end: keep it as text
                break;
            }
            QStringView tagText = QStringView(html).mid(i + 1, close - i - 1).trimmed();
            const bool  closing = tagText.startsWith(u'/');
            if (closing) {
                tagText = tagText.mid(1);
            }
            qsizetype nameLen = 0;
            while (nameLen < tagText.size() && (tagText[nameLen].isLetterOrNumber() || tagText[nameLen] == u'-')) {
                ++nameLen;
            }
            const QString tag = tagText.left(nameLen).toString().toLower();
            if (nameLen == 0) { // "<!DOCTYPE", "<?xml", "a < b" in sloppy HTML
                if (!tagText.startsWith(u'!') && !tagText.startsWith(u'?')) {
                    out += c;
                    ++i;
                    continue;
                }
                i = close + 1;
                continue;
            }
            i = close + 1;
            if (!closing && isHiddenElement(tag) && !tagText.endsWith(u'/')) {
                const qsizetype end = html.indexOf(QStringLiteral("</") + tag, i, Qt::CaseInsensitive);
                const qsizetype gt  = end < 0 ? -1 : html.indexOf(u'>', end);
                i                   = gt < 0 ? n : gt + 1;
                if (tag == u"head") {
                    // keep the title: it names the page
                    const QString   head  = html.mid(close + 1, (end < 0 ? n : end) - close - 1);
                    const qsizetype t0    = head.indexOf(QStringLiteral("<title"), 0, Qt::CaseInsensitive);
                    const qsizetype t0end = t0 < 0 ? -1 : head.indexOf(u'>', t0);
                    const qsizetype t1    = t0end < 0 ? -1 : head.indexOf(QStringLiteral("</title"), t0end, Qt::CaseInsensitive);
                    if (t1 > t0end) {
                        out += htmlToText(head.mid(t0end + 1, t1 - t0end - 1)).trimmed();
                        newline(2);
                    }
                }
                continue;
            }
            if (tag == u"pre") {
                preDepth = qMax(0, preDepth + (closing ? -1 : 1));
            }
            if (tag == u"br") {
                out += u'\n';
            } else if (tag == u"td" || tag == u"th") {
                if (closing) {
                    out += u'\t';
                }
            } else if (isBlockElement(tag)) {
                newline(isParagraphElement(tag) ? 2 : 1);
            }
            continue;
        }
        if (c == u'&') {
            if (const qsizetype used = decodeEntity(html, i, out)) {
                i += used;
                continue;
            }
            out += c;
            ++i;
            continue;
        }
        if (preDepth == 0 && c.isSpace()) {
            if (!out.isEmpty() && !out.endsWith(u' ') && !out.endsWith(u'\n')) {
                out += u' ';
            }
            ++i;
            continue;
        }
        out += c;
        ++i;
    }
    while (!out.isEmpty() && out.back().isSpace()) {
        out.chop(1);
    }
    if (!out.isEmpty()) {
        out += u'\n';
    }
    return out;
}

} // namespace v4app::documents
