#include "Toast.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>

namespace v4ui {

Toast::Toast(QWidget * parent) : QFrame(parent) {
    setObjectName(QStringLiteral("Toast"));
    setAttribute(Qt::WA_StyledBackground);
    setAccessibleName(tr("Notification"));
    auto * layout = new QHBoxLayout(this);
    layout->setContentsMargins(14, 8, 8, 8);
    layout->setSpacing(10);
    m_label = new QLabel(this);
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_action = new QPushButton(this);
    m_action->setObjectName(QStringLiteral("ToastAction"));
    m_close = new QPushButton(QStringLiteral("✕"), this);
    m_close->setObjectName(QStringLiteral("ToastClose"));
    m_close->setAccessibleName(tr("Close notification"));
    layout->addWidget(m_label, 1);
    layout->addWidget(m_action);
    layout->addWidget(m_close);
    connect(m_action, &QPushButton::clicked, this, [this] {
        hide();
        if (auto callback = std::exchange(m_callback, {})) {
            callback();
        }
    });
    connect(m_close, &QPushButton::clicked, this, &QWidget::hide);
    m_hide.setSingleShot(true);
    connect(&m_hide, &QTimer::timeout, this, &QWidget::hide);
    parent->installEventFilter(this);
    hide();
}

void Toast::show(const QString & message, const QString & actionText, std::function<void()> action, bool error) {
    m_label->setText(message);
    m_action->setText(actionText);
    m_action->setVisible(!actionText.isEmpty());
    m_callback = std::move(action);
    setProperty("error", error);
    style()->unpolish(this);
    style()->polish(this);
    if (error) {
        m_hide.stop();
    } else {
        m_hide.start(actionText.isEmpty() ? 3000 : 8000);
    }
    place();
    QFrame::show();
    raise();
}

QString Toast::message() const { return isVisible() ? m_label->text() : QString(); }

void Toast::place() {
    const QWidget * p     = parentWidget();
    const int       width = qMin(560, p->width() - 40);
    setFixedWidth(width);
    adjustSize();
    move((p->width() - width) / 2, p->height() - height() - 110);
}

bool Toast::eventFilter(QObject * watched, QEvent * event) {
    if (watched == parentWidget() && event->type() == QEvent::Resize && isVisible()) {
        place();
    }
    return QFrame::eventFilter(watched, event);
}

} // namespace v4ui
