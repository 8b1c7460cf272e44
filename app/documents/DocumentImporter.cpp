#include "documents/DocumentImporter.h"

#include "documents/TextDecoding.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QHash>

Q_LOGGING_CATEGORY(lcDocuments, "v4.documents")

namespace v4app::documents {

namespace {

// Extension → language tag for text/x-<lang>. Only files people paste into a chat; anything not
// here is imported as plain text if it is text.
const QHash<QString, QString> kCodeTypes = {
    {"c", "c"}, {"h", "c"}, {"cc", "c++"}, {"cpp", "c++"}, {"cxx", "c++"}, {"hpp", "c++"}, {"hh", "c++"},
    {"cu", "cuda"}, {"cuh", "cuda"}, {"py", "python"}, {"rs", "rust"}, {"go", "go"}, {"java", "java"},
    {"kt", "kotlin"}, {"swift", "swift"}, {"js", "javascript"}, {"mjs", "javascript"}, {"ts", "typescript"},
    {"tsx", "typescript"}, {"jsx", "javascript"}, {"rb", "ruby"}, {"php", "php"}, {"cs", "csharp"},
    {"sh", "shellscript"}, {"bash", "shellscript"}, {"zsh", "shellscript"}, {"pl", "perl"}, {"lua", "lua"},
    {"sql", "sql"}, {"cmake", "cmake"}, {"json", "json"}, {"yaml", "yaml"}, {"yml", "yaml"}, {"toml", "toml"},
    {"xml", "xml"}, {"css", "css"}, {"qml", "qml"}, {"ini", "ini"}, {"r", "r"}, {"scala", "scala"},
    {"hs", "haskell"}, {"ml", "ocaml"}, {"el", "elisp"}, {"vim", "vim"}, {"diff", "diff"}, {"patch", "diff"},
};

StorageError invalid(QString message) {
    return StorageError::make(StorageError::Kind::InvalidInput, std::move(message));
}

QString megabytes(qint64 bytes) {
    return QString::number(double(bytes) / (1024.0 * 1024.0), 'f', bytes < 10 * 1024 * 1024 ? 1 : 0);
}

} // namespace

QString formatName(Format format) {
    switch (format) {
        case Format::PlainText: return QStringLiteral("text");
        case Format::Markdown: return QStringLiteral("markdown");
        case Format::SourceCode: return QStringLiteral("code");
        case Format::Html: return QStringLiteral("html");
        case Format::Pdf: return QStringLiteral("pdf");
    }
    return QStringLiteral("text");
}

Format formatForPath(const QString & path, QString * mime) {
    const QString ext = QFileInfo(path).suffix().toLower();
    auto          set = [mime](const QString & m) {
        if (mime) {
            *mime = m;
        }
    };
    if (ext == u"pdf") {
        set(QStringLiteral("application/pdf"));
        return Format::Pdf;
    }
    if (ext == u"html" || ext == u"htm" || ext == u"xhtml") {
        set(QStringLiteral("text/html"));
        return Format::Html;
    }
    if (ext == u"md" || ext == u"markdown" || ext == u"mdown") {
        set(QStringLiteral("text/markdown"));
        return Format::Markdown;
    }
    if (auto it = kCodeTypes.constFind(ext); it != kCodeTypes.cend()) {
        set(QStringLiteral("text/x-") + *it);
        return Format::SourceCode;
    }
    set(QStringLiteral("text/plain"));
    return Format::PlainText;
}

Expected<ImportedDocument> importFile(const QString & path, const ImportOptions & options) {
    const QFileInfo info(path);
    if (!info.exists()) {
        return StorageError::make(StorageError::Kind::NotFound, QStringLiteral("“%1” does not exist.").arg(path));
    }
    if (!info.isFile()) {
        return invalid(QStringLiteral("“%1” is not a file.").arg(path));
    }
    if (info.size() > options.maxBytes) {
        return invalid(QStringLiteral("“%1” is %2 MB; documents can be at most %3 MB. Split it, or import the "
                                      "part you need.")
                           .arg(info.fileName(), megabytes(info.size()), megabytes(options.maxBytes)));
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return StorageError::make(StorageError::Kind::Io,
                                  QStringLiteral("Could not read “%1”: %2.").arg(path, file.errorString()));
    }
    const QByteArray bytes = file.readAll();
    if (bytes.size() != info.size() && file.error() != QFileDevice::NoError) {
        return StorageError::make(StorageError::Kind::Io,
                                  QStringLiteral("Could not read “%1”: %2.").arg(path, file.errorString()));
    }

    ImportedDocument doc;
    doc.path   = info.absoluteFilePath();
    doc.name   = info.fileName();
    doc.size   = bytes.size();
    doc.sha256 = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    doc.format = formatForPath(path, &doc.mime);
    if (bytes.startsWith("%PDF-")) {
        doc.format = Format::Pdf;
        doc.mime   = QStringLiteral("application/pdf");
    }

    if (doc.format == Format::Pdf) {
        auto pages = pdfPages(bytes, doc.name, options.pageProgress);
        if (!pages) {
            return pages.error();
        }
        QByteArray    utf8;
        QList<qint64> pageStarts;
        for (const QString & page : pages.value()) {
            pageStarts.append(utf8.size());
            utf8 += page.toUtf8();
            if (!utf8.endsWith('\n')) {
                utf8 += '\n';
            }
        }
        doc.pages    = int(pages->size());
        doc.encoding = QStringLiteral("PDF");
        doc.chunks   = chunkText(utf8, pageStarts, options.chunking);
        if (doc.chunks.isEmpty()) {
            return invalid(QStringLiteral("“%1” has no text to import (%2 pages; a scanned PDF needs OCR first).")
                               .arg(doc.name)
                               .arg(doc.pages));
        }
        return doc;
    }

    if (looksBinary(bytes)) {
        return invalid(QStringLiteral("“%1” looks like a binary file, not text. V4 Chat imports text, Markdown, "
                                      "source code, HTML and PDF files.")
                           .arg(doc.name));
    }
    DecodedText decoded = decodeText(bytes);
    doc.encoding        = decoded.encoding;
    if (doc.format == Format::Html) {
        decoded.utf8 = htmlToText(QString::fromUtf8(decoded.utf8)).toUtf8();
    }
    doc.chunks = chunkText(decoded.utf8, {}, options.chunking);
    if (decoded.offsetsAreFileOffsets && decoded.bomBytes > 0 && doc.format != Format::Html) {
        for (Chunk & c : doc.chunks) { // offsets in the file, not in the BOM-less text
            c.byteStart += decoded.bomBytes;
            c.byteEnd += decoded.bomBytes;
        }
    }
    if (doc.chunks.isEmpty()) {
        return invalid(QStringLiteral("“%1” is empty: there is no text to import.").arg(doc.name));
    }
    return doc;
}

} // namespace v4app::documents
