// Toast: a short message floating at the bottom of its parent ("Conversation deleted  [Undo]",
// "Code copied", a storage error). It hides by itself after a few seconds; an error stays until
// closed. One toast at a time: a new message replaces the old one.
#pragma once

#include <QFrame>
#include <QTimer>

#include <functional>

class QLabel;
class QPushButton;

namespace v4ui {

class Toast final : public QFrame {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Toast)

public:
    explicit Toast(QWidget * parent);

    // `actionText` empty: no button. `error`: stays until closed, styled as a warning.
    void show(const QString & message, const QString & actionText = {}, std::function<void()> action = {},
              bool error = false);
    QString message() const;

protected:
    bool eventFilter(QObject * watched, QEvent * event) override; // follows the parent's size

private:
    void place();

    QLabel *              m_label;
    QPushButton *         m_action;
    QPushButton *         m_close;
    QTimer                m_hide;
    std::function<void()> m_callback;
};

} // namespace v4ui
