// DocumentImporter: turns a file into text chunks ready for the DocumentStore.
//
// Formats, chosen by extension (then by content: "%PDF-" is a PDF whatever its name):
//   .txt .text .log (and unknown extensions)  text/plain
//   .md .markdown                             text/markdown (kept as written: the model reads Markdown)
//   source code (.c .cpp .h .py .rs .go .js .ts .java .sh .cmake ... see kCodeTypes)  text/x-<lang>
//   .html .htm .xhtml                         text only: tags dropped, <script>/<style> dropped, entities decoded
//   .pdf                                      poppler-qt6, text per page; page numbers kept on each chunk
// Text encodings: UTF-8 (with or without BOM), UTF-16/32 with a BOM, otherwise Latin-1.
// Refused with a message for people: missing/unreadable file, over ImportOptions::maxBytes
// (512 MiB), binary content ("looks like a binary file"), encrypted or damaged PDF, no text at all.
//
// Thread contract: importFile() is a pure function of the file and the options; call it from any
// thread (the app runs it on a worker). Poppler documents are created and destroyed inside the call.
//
// Usage:
//     auto doc = v4app::documents::importFile(path);
//     if (!doc) { showError(doc.error().message); return; }
//     for (const auto & c : doc->chunks) { qDebug() << c.page << c.lineStart << c.text.left(40); }
#pragma once

#include "documents/Chunker.h"
#include "storage/StorageError.h"

#include <QByteArray>
#include <QList>
#include <QLoggingCategory>
#include <QString>

#include <functional>

Q_DECLARE_LOGGING_CATEGORY(lcDocuments)

namespace v4app::documents {

enum class Format { PlainText, Markdown, SourceCode, Html, Pdf };

struct ImportOptions {
    qint64       maxBytes = qint64(512) * 1024 * 1024;
    ChunkOptions chunking;
    // Called after each PDF page is extracted (page is 1-based); return false to stop the import
    // (importFile() then fails with "… was cancelled"). Text formats are parsed in one go.
    std::function<bool(int page, int pageCount)> pageProgress;
};

struct ImportedDocument {
    QString      path; // absolute
    QString      name; // file name, for citations
    QString      sha256; // hex of the file's bytes: the same file imported twice is stored once
    qint64       size  = 0; // bytes on disk
    QString      mime;
    Format       format = Format::PlainText;
    QString      encoding; // of text formats; "PDF" for PDFs
    int          pages = 0; // 0 for formats without pages
    QList<Chunk> chunks;
};

Expected<ImportedDocument> importFile(const QString & path, const ImportOptions & options = {});

// Format and MIME type from the file name alone ("notes.md" → Markdown, "text/markdown").
Format  formatForPath(const QString & path, QString * mime = nullptr);
QString formatName(Format format);

// Exposed for tests and for pasted HTML: the visible text of an HTML document.
QString htmlToText(const QString & html);

// PDF text, one string per page. Errors: encrypted, damaged, not a PDF.
Expected<QStringList> pdfPages(const QByteArray & bytes, const QString & nameForMessages,
                               const std::function<bool(int page, int pageCount)> & pageProgress = {});

} // namespace v4app::documents
