#include "backends/ModelList.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

namespace v4app {

QStringList parseModelIds(const QByteArray & json, QString * error) {
    auto fail = [&](const QString & why) {
        if (error) {
            *error = why;
        }
        return QStringList();
    };
    QJsonParseError     parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return fail(QStringLiteral("the model list is not valid JSON (%1)").arg(parseError.errorString()));
    }
    QJsonArray items;
    if (doc.isArray()) {
        items = doc.array();
    } else if (doc.object().value(QLatin1String("data")).isArray()) {
        items = doc.object().value(QLatin1String("data")).toArray();
    } else if (doc.object().value(QLatin1String("models")).isArray()) {
        items = doc.object().value(QLatin1String("models")).toArray();
    } else {
        return fail(QStringLiteral("the answer has no \"data\" list of models"));
    }
    QStringList ids;
    for (const QJsonValue & item : items) {
        QString id;
        if (item.isString()) {
            id = item.toString();
        } else {
            const QJsonObject o = item.toObject();
            for (const char * key : {"id", "name", "model"}) {
                id = o.value(QLatin1String(key)).toString();
                if (!id.isEmpty()) {
                    break;
                }
            }
        }
        if (!id.isEmpty()) {
            ids.append(id);
        }
    }
    ids.sort();
    ids.removeDuplicates();
    if (error) {
        error->clear();
    }
    return ids;
}

} // namespace v4app
