// ModelCatalog: GGUF files for the model manager: find them in folders, and read what one holds
// (architecture, parameters, quantization, context, chat template) through the engine's loader.
// readModelMetadata() maps the file and reads its tokenizer: call it off the GUI thread
// (QtConcurrent::run) for files larger than a few MB.
#pragma once

#include <QString>
#include <QStringList>

namespace v4app {

struct ModelMetadata {
    QString path;
    bool    ok = false;
    QString error;           // !ok: for people, e.g. "unsupported architecture 'mamba'"
    QString name;            // general.name, or the file name
    QString architecture;    // "llama", "gemma3", ...
    quint64 parameters = 0;
    QString quantization;    // "Q4_K_M (most tensors Q5_0)": the name's tag and the most common weight type
    quint32 contextLength = 0;
    quint64 fileSize = 0;
    QString chatTemplate;    // the file's own template; empty when it has none
    QString templateNote;    // "from the file", "built-in for gemma3", "none"
};

ModelMetadata readModelMetadata(const QString & path);

// *.gguf files under `folder` (and its subfolders, at most `maxDepth` deep), sorted by path.
// Partial downloads (*.part) and unreadable folders are skipped.
QStringList scanForModels(const QString & folder, int maxDepth = 3);

// "270 M", "1.54 B"
QString humanParameterCount(quint64 parameters);
// "242 MB", "4.1 GB"
QString humanFileSize(quint64 bytes);

} // namespace v4app
