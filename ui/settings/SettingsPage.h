// One page of the Settings dialog. Pages edit a working copy: load() fills the widgets from the
// stores, validate() lists what is wrong (for people), apply() writes, discard() undoes any live
// preview. changed() tells the dialog to enable Apply.
#pragma once

#include <QFormLayout>
#include <QLabel>
#include <QStringList>
#include <QWidget>

namespace v4ui {

class SettingsPage : public QWidget {
    Q_OBJECT

public:
    using QWidget::QWidget;

    virtual QString     title() const = 0;
    virtual void        load() = 0;
    virtual QStringList validate() const { return {}; }
    virtual void        apply() = 0;
    virtual void        discard() {}

signals:
    void changed();
};

// Adds "label: widget" to a form and gives the widget the label as its accessible name.
inline QLabel * addFormRow(QFormLayout * form, const QString & label, QWidget * field) {
    auto * l = new QLabel(label, form->parentWidget());
    l->setBuddy(field);
    field->setAccessibleName(QString(label).remove(QLatin1Char('&')));
    form->addRow(l, field);
    return l;
}

// A page heading and a muted explanation under it.
QWidget * makePageHeader(const QString & title, const QString & explanation, QWidget * parent);

} // namespace v4ui
