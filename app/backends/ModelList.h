// Parsing of GET /v1/models answers for the model picker.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace v4app {

// Model ids from an OpenAI-style list ({"object": "list", "data": [{"id": "..."}, ...]}), also
// accepting a bare array and Ollama-style {"models": [{"name"|"model": ...}]}. Sorted, no
// duplicates. On a body that is not such a list, returns {} and sets *error (if given).
QStringList parseModelIds(const QByteArray & json, QString * error = nullptr);

} // namespace v4app
