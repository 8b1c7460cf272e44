// ImageAttachments: PNG/JPEG images for ChatMessage::attachments, and how they go over the wire.
//
// The type is taken from the bytes (PNG / JPEG signature), not from the file name, so a renamed
// file or a wrong mimeType is caught before anything is sent. Limits: kMaxImageBytes per image
// (OpenAI's documented per-image limit is 20 MB; base64 adds a third, and many self-hosted servers
// cap request bodies well below that) and kMaxRequestImageBytes for all images of one request.
//
// On the wire (OpenAI chat completions) a user message with images has array content:
//   "content": [{"type": "text", "text": "..."},
//               {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}]
#pragma once

#include "backends/ChatBackend.h"

#include <QJsonArray>
#include <QString>

namespace v4app {

inline constexpr qsizetype kMaxImageBytes = 10 * 1024 * 1024;
inline constexpr qsizetype kMaxRequestImageBytes = 20 * 1024 * 1024;

// "image/png", "image/jpeg", or empty when the bytes are neither.
QString sniffImageMimeType(const QByteArray & data);

// Reads a PNG or JPEG file into an attachment; on failure returns false and sets *error (for
// people: names the file and says what is wrong: missing, not PNG/JPEG, too large).
bool loadImageAttachment(const QString & path, ChatAttachment * attachment, QString * error);

// Checks every attachment of a request (type matches the bytes, per-image and total limits).
// Empty when fine, otherwise a message for people.
QString checkImageAttachments(const QVector<ChatMessage> & messages);

bool hasAttachments(const QVector<ChatMessage> & messages);

// The OpenAI content array for a message with attachments: the text part (when not empty), then
// one image_url part with a data URL per image.
QJsonArray contentParts(const ChatMessage & message);

} // namespace v4app
