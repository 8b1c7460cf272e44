#include "settings/AppearanceDataPages.h"

#include <QButtonGroup>
#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QUrl>
#include <QVBoxLayout>

#include "core/AppPaths.h"

namespace v4ui {

QWidget * makePageHeader(const QString & title, const QString & explanation, QWidget * parent) {
    auto * box = new QWidget(parent);
    auto * layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 4);
    layout->setSpacing(2);
    auto * heading = new QLabel(title, box);
    heading->setObjectName(QStringLiteral("PageTitle"));
    heading->setAccessibleName(title);
    auto * text = new QLabel(explanation, box);
    text->setObjectName(QStringLiteral("Hint"));
    text->setWordWrap(true);
    layout->addWidget(heading);
    layout->addWidget(text);
    return box;
}

AppearancePage::AppearancePage(QString settingsPath, QWidget * parent)
    : SettingsPage(parent), m_settingsPath(std::move(settingsPath)) {
    auto * layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(14);
    layout->addWidget(makePageHeader(title(), tr("Changes show at once; Cancel brings the old look back."), this));

    auto * themeGroup = new QGroupBox(tr("Theme"), this);
    auto * themeRow = new QHBoxLayout(themeGroup);
    m_theme = new QButtonGroup(this);
    const std::pair<ThemeChoice, QString> choices[] = {
        {ThemeChoice::System, tr("Same as the system")}, {ThemeChoice::Light, tr("Light")}, {ThemeChoice::Dark, tr("Dark")}};
    for (const auto & [choice, label] : choices) {
        auto * button = new QRadioButton(label, themeGroup);
        button->setAccessibleName(tr("Theme: %1").arg(label));
        m_theme->addButton(button, static_cast<int>(choice));
        themeRow->addWidget(button);
    }
    themeRow->addStretch();
    layout->addWidget(themeGroup);

    auto * textGroup = new QGroupBox(tr("Text"), this);
    auto * form = new QFormLayout(textGroup);
    m_fontSize = new QSpinBox(textGroup);
    m_fontSize->setRange(Appearance::kMinFontPx, Appearance::kMaxFontPx);
    m_fontSize->setSuffix(tr(" px"));
    m_fontSize->setMaximumWidth(120);
    addFormRow(form, tr("Font size"), m_fontSize);
    layout->addWidget(textGroup);
    layout->addStretch();

    connect(m_theme, &QButtonGroup::idClicked, this, [this] {
        preview();
        emit changed();
    });
    connect(m_fontSize, &QSpinBox::valueChanged, this, [this] {
        preview();
        emit changed();
    });
}

void AppearancePage::load() {
    m_saved = loadAppearance(m_settingsPath);
    const QSignalBlocker a(m_theme);
    const QSignalBlocker b(m_fontSize);
    m_theme->button(static_cast<int>(m_saved.theme))->setChecked(true);
    m_fontSize->setValue(m_saved.fontPixelSize);
}

Appearance AppearancePage::chosen() const {
    Appearance a;
    a.theme = static_cast<ThemeChoice>(m_theme->checkedId());
    a.fontPixelSize = m_fontSize->value();
    return a;
}

void AppearancePage::choose(ThemeChoice theme) { m_theme->button(static_cast<int>(theme))->click(); }

void AppearancePage::preview() { applyAppearance(chosen()); }

void AppearancePage::apply() {
    m_saved = chosen();
    saveAppearance(m_settingsPath, m_saved);
    applyAppearance(m_saved);
}

void AppearancePage::discard() {
    const Appearance now = chosen();
    if (now.theme != m_saved.theme || now.fontPixelSize != m_saved.fontPixelSize) {
        applyAppearance(m_saved);
    }
}

DataPage::DataPage(QWidget * parent) : SettingsPage(parent) {
    auto * layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(14);
    layout->addWidget(makePageHeader(title(), tr("Conversations, models, logs and settings stay on this computer, here:"), this));
    auto * group = new QGroupBox(tr("Folders"), this);
    auto * form = new QFormLayout(group);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    const std::pair<QString, QString> rows[] = {
        {tr("Data folder"), v4app::AppPaths::dataDir()},
        {tr("Models"), v4app::AppPaths::modelsDir()},
        {tr("Logs"), v4app::AppPaths::logsDir()},
        {tr("Settings file"), v4app::AppPaths::settingsPath()},
    };
    for (const auto & [label, path] : rows) {
        auto * field = new QLineEdit(QDir::toNativeSeparators(path), group);
        field->setReadOnly(true);
        field->setCursorPosition(0);
        auto * open = new QPushButton(tr("Open"), group);
        open->setAccessibleName(tr("Open %1").arg(label));
        const QString folder = QFileInfo(path).isDir() ? path : QFileInfo(path).absolutePath();
        connect(open, &QPushButton::clicked, this, [folder] { QDesktopServices::openUrl(QUrl::fromLocalFile(folder)); });
        auto * row = new QHBoxLayout;
        row->addWidget(field, 1);
        row->addWidget(open);
        auto * l = new QLabel(label, group);
        l->setBuddy(field);
        field->setAccessibleName(label);
        form->addRow(l, row);
    }
    layout->addWidget(group);
    auto * note = new QLabel(tr("To keep everything somewhere else (another disk, a portable install), start V4 Chat with "
                                "the environment variable V4_DATA_DIR set to that folder."),
                             this);
    note->setObjectName(QStringLiteral("Hint"));
    note->setWordWrap(true);
    layout->addWidget(note);
    layout->addStretch();
}

void DataPage::load() {}

} // namespace v4ui
