// PDF text through poppler-qt6, one string per page. Poppler reports damaged files through a debug
// callback that prints to stderr by default; we route it to our logging category instead (the
// library never prints, STYLE.md convention 17).
#include "documents/DocumentImporter.h"

#include <poppler-qt6.h>

#include <QRectF>

#include <mutex>

namespace v4app::documents {

namespace {

void popplerMessage(const QString & message, const QVariant &) {
    qCDebug(lcDocuments) << "poppler:" << message;
}

} // namespace

Expected<QStringList> pdfPages(const QByteArray & bytes, const QString & name,
                               const std::function<bool(int page, int pageCount)> & pageProgress) {
    static std::once_flag quiet;
    std::call_once(quiet, [] { Poppler::setDebugErrorFunction(popplerMessage, QVariant()); });

    std::unique_ptr<Poppler::Document> doc = Poppler::Document::loadFromData(bytes);
    if (!doc) {
        return StorageError::make(StorageError::Kind::InvalidInput,
                                  QStringLiteral("“%1” could not be read as a PDF: the file is damaged or is not "
                                                 "really a PDF.")
                                      .arg(name));
    }
    if (doc->isLocked()) {
        return StorageError::make(StorageError::Kind::InvalidInput,
                                  QStringLiteral("“%1” is password-protected (encrypted). Remove the password "
                                                 "(e.g. print it to a new PDF) and import it again.")
                                      .arg(name));
    }
    const int pageCount = doc->numPages();
    if (pageCount <= 0) {
        return StorageError::make(StorageError::Kind::InvalidInput,
                                  QStringLiteral("“%1” could not be read as a PDF: it has no pages (the file is "
                                                 "damaged or cut short).")
                                      .arg(name));
    }
    QStringList pages;
    pages.reserve(pageCount);
    for (int i = 0; i < pageCount; ++i) {
        std::unique_ptr<Poppler::Page> page = doc->page(i);
        pages.append(page ? page->text(QRectF()) : QString());
        if (pageProgress && !pageProgress(i + 1, pageCount)) {
            return StorageError::make(StorageError::Kind::InvalidInput,
                                      QStringLiteral("Import of “%1” was cancelled.").arg(name));
        }
    }
    return pages;
}

} // namespace v4app::documents
