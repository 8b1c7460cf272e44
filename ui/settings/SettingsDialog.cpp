#include "settings/SettingsDialog.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QStyle>
#include <QVBoxLayout>

#include "settings/AppearanceDataPages.h"
#include "settings/BackendsPage.h"
#include "settings/ModelsPage.h"
#include "settings/ModesPage.h"

namespace v4ui {

SettingsDialog::SettingsDialog(v4app::ProfileStore & profiles, v4app::EndpointKeys & keys, const QString & settingsPath,
                               QWidget * parent)
    : QDialog(parent) {
    setWindowTitle(tr("Settings"));
    setObjectName(QStringLiteral("SettingsDialog"));
    resize(920, 700);
    setMinimumSize(760, 560);

    m_backends = new BackendsPage(profiles, keys, this);
    m_modes = new ModesPage(profiles, this);
    m_models = new ModelsPage(profiles, this);
    m_appearance = new AppearancePage(settingsPath, this);
    m_data = new DataPage(this);
    m_pages = {m_backends, m_modes, m_models, m_appearance, m_data};

    m_nav = new QListWidget(this);
    m_nav->setObjectName(QStringLiteral("SettingsNav"));
    m_nav->setAccessibleName(tr("Settings pages"));
    m_nav->setFixedWidth(190);
    m_stack = new QStackedWidget(this);
    for (SettingsPage * page : std::as_const(m_pages)) {
        m_nav->addItem(page->title());
        auto * scroll = new QScrollArea(m_stack);
        scroll->setWidgetResizable(true);
        scroll->setFrameShape(QFrame::NoFrame);
        scroll->setWidget(page);
        m_stack->addWidget(scroll);
        page->load();
        connect(page, &SettingsPage::changed, this, [this] { applyButton()->setEnabled(true); });
    }
    connect(m_nav, &QListWidget::currentRowChanged, m_stack, &QStackedWidget::setCurrentIndex);
    connect(m_backends, &BackendsPage::endpointsEdited, this, [this] { m_modes->setEndpoints(m_backends->endpoints()); });

    m_problems = new QLabel(this);
    m_problems->setObjectName(QStringLiteral("ErrorBanner"));
    m_problems->setWordWrap(true);
    m_problems->setAccessibleName(tr("Problems to fix"));
    m_problems->hide();

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Apply | QDialogButtonBox::Cancel, this);
    okButton()->setAccessibleName(tr("OK"));
    applyButton()->setAccessibleName(tr("Apply"));
    cancelButton()->setAccessibleName(tr("Cancel"));
    okButton()->setObjectName(QStringLiteral("PrimaryButton"));
    okButton()->style()->unpolish(okButton()); // picked up the style before it had its name
    okButton()->style()->polish(okButton());
    okButton()->setMinimumWidth(90);
    applyButton()->setEnabled(false);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);
    connect(applyButton(), &QPushButton::clicked, this, &SettingsDialog::apply);

    auto * content = new QVBoxLayout;
    content->setContentsMargins(24, 20, 24, 16);
    content->setSpacing(12);
    content->addWidget(m_problems);
    content->addWidget(m_stack, 1);
    content->addWidget(m_buttons);
    auto * layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_nav);
    layout->addLayout(content, 1);
    m_nav->setCurrentRow(0);
}

void SettingsDialog::showPage(Page page) { m_nav->setCurrentRow(static_cast<int>(page)); }

QPushButton * SettingsDialog::applyButton() const { return m_buttons->button(QDialogButtonBox::Apply); }
QPushButton * SettingsDialog::okButton() const { return m_buttons->button(QDialogButtonBox::Ok); }
QPushButton * SettingsDialog::cancelButton() const { return m_buttons->button(QDialogButtonBox::Cancel); }

bool SettingsDialog::apply() {
    QStringList problems;
    int firstBad = -1;
    for (int i = 0; i < m_pages.size(); ++i) {
        const QStringList p = m_pages[i]->validate();
        if (!p.isEmpty() && firstBad < 0) firstBad = i;
        problems << p;
    }
    if (!problems.isEmpty()) {
        QString html = tr("Nothing was saved. Please fix:") + QStringLiteral("<ul style=\"margin: 4px 0 0 -24px\">");
        for (const QString & p : std::as_const(problems)) {
            html += QStringLiteral("<li>") + p.toHtmlEscaped() + QStringLiteral("</li>");
        }
        m_problems->setText(html + QStringLiteral("</ul>"));
        m_problems->show();
        m_nav->setCurrentRow(firstBad);
        return false;
    }
    m_problems->hide();
    // Backends first: the Modes page may name a server just added.
    for (SettingsPage * page : std::as_const(m_pages)) {
        page->apply();
    }
    applyButton()->setEnabled(false);
    emit applied();
    return true;
}

void SettingsDialog::accept() {
    if (!applyButton()->isEnabled() || apply()) {
        QDialog::accept();
    }
}

void SettingsDialog::reject() {
    for (SettingsPage * page : std::as_const(m_pages)) {
        page->discard();
    }
    QDialog::reject();
}

} // namespace v4ui
