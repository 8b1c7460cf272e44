#include "Theme.h"

#include <QApplication>
#include <QFile>
#include <QPalette>
#include <QSettings>
#include <QStyle>

#include <algorithm>
#include <map>

// Resources compiled into a static library must be registered by hand (outside any namespace).
static void initStyleResources() { Q_INIT_RESOURCE(styles); }

namespace v4ui {

namespace {

using Palette = std::map<QString, QString>;

Palette lightPalette() {
    return {{QStringLiteral("window"), QStringLiteral("#ffffff")},   {QStringLiteral("sidebar"), QStringLiteral("#f6f7f9")},
            {QStringLiteral("surface"), QStringLiteral("#ffffff")},  {QStringLiteral("text"), QStringLiteral("#1d2330")},
            {QStringLiteral("muted"), QStringLiteral("#6b7280")},    {QStringLiteral("border"), QStringLiteral("#e3e6eb")},
            {QStringLiteral("hover"), QStringLiteral("#eef0f4")},    {QStringLiteral("selection"), QStringLiteral("#e4e9fb")},
            {QStringLiteral("accent"), QStringLiteral("#4f5bd5")},   {QStringLiteral("accenthover"), QStringLiteral("#4350c4")}};
}

Palette darkPalette() {
    return {{QStringLiteral("window"), QStringLiteral("#17191e")},   {QStringLiteral("sidebar"), QStringLiteral("#1e2127")},
            {QStringLiteral("surface"), QStringLiteral("#23262d")},  {QStringLiteral("text"), QStringLiteral("#e6e8ec")},
            {QStringLiteral("muted"), QStringLiteral("#9aa1ad")},    {QStringLiteral("border"), QStringLiteral("#343842")},
            {QStringLiteral("hover"), QStringLiteral("#2a2e36")},    {QStringLiteral("selection"), QStringLiteral("#2f3650")},
            {QStringLiteral("accent"), QStringLiteral("#7c86f0")},   {QStringLiteral("accenthover"), QStringLiteral("#8d96f5")}};
}

QString loadStyleSheet(const Palette & palette, int fontPixelSize) {
    initStyleResources();
    QFile file(QStringLiteral(":/styles/app.qss"));
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    QString sheet = QString::fromUtf8(file.readAll());
    sheet.replace(QStringLiteral("@fontpx"), QString::number(fontPixelSize) + QStringLiteral("px"));
    // Longest names first so "@accenthover" is not eaten by "@accent".
    for (auto it = palette.rbegin(); it != palette.rend(); ++it) {
        sheet.replace(QLatin1Char('@') + it->first, it->second);
    }
    return sheet;
}

} // namespace

QString themeChoiceName(ThemeChoice choice) {
    switch (choice) {
    case ThemeChoice::Light: return QStringLiteral("light");
    case ThemeChoice::Dark: return QStringLiteral("dark");
    case ThemeChoice::System: break;
    }
    return QStringLiteral("system");
}

ThemeChoice themeChoiceFromName(const QString & name) {
    if (name == QLatin1String("light")) return ThemeChoice::Light;
    if (name == QLatin1String("dark")) return ThemeChoice::Dark;
    return ThemeChoice::System;
}

Appearance loadAppearance(const QString & settingsPath) {
    QSettings s(settingsPath, QSettings::IniFormat);
    Appearance a;
    a.theme = themeChoiceFromName(s.value(QStringLiteral("appearance/theme")).toString());
    a.fontPixelSize = std::clamp(s.value(QStringLiteral("appearance/fontSize"), a.fontPixelSize).toInt(),
                                 Appearance::kMinFontPx, Appearance::kMaxFontPx);
    return a;
}

void saveAppearance(const QString & settingsPath, const Appearance & appearance) {
    QSettings s(settingsPath, QSettings::IniFormat);
    s.setValue(QStringLiteral("appearance/theme"), themeChoiceName(appearance.theme));
    s.setValue(QStringLiteral("appearance/fontSize"), appearance.fontPixelSize);
}

void applyAppearance(const Appearance & appearance) {
    if (auto * app = qobject_cast<QApplication *>(QCoreApplication::instance())) {
        applyTheme(*app, appearance.theme, appearance.fontPixelSize);
    }
}

bool isDark(ThemeChoice choice) {
    if (choice == ThemeChoice::System) {
        // Qt 6.4 has no colour-scheme hint: a dark desktop shows up as a dark default window colour.
        return QApplication::style()->standardPalette().color(QPalette::Window).lightness() < 128;
    }
    return choice == ThemeChoice::Dark;
}

void applyTheme(QApplication & app, ThemeChoice choice, int fontPixelSize) {
    const Palette palette = isDark(choice) ? darkPalette() : lightPalette();
    QPalette qp = app.palette();
    qp.setColor(QPalette::Window, QColor(palette.at(QStringLiteral("window"))));
    qp.setColor(QPalette::Base, QColor(palette.at(QStringLiteral("surface"))));
    qp.setColor(QPalette::Text, QColor(palette.at(QStringLiteral("text"))));
    qp.setColor(QPalette::WindowText, QColor(palette.at(QStringLiteral("text"))));
    qp.setColor(QPalette::ButtonText, QColor(palette.at(QStringLiteral("text"))));
    qp.setColor(QPalette::Button, QColor(palette.at(QStringLiteral("surface"))));
    qp.setColor(QPalette::Highlight, QColor(palette.at(QStringLiteral("accent"))));
    qp.setColor(QPalette::PlaceholderText, QColor(palette.at(QStringLiteral("muted"))));
    app.setPalette(qp);
    app.setStyle(QStringLiteral("Fusion"));
    app.setStyleSheet(loadStyleSheet(palette, fontPixelSize));
}

} // namespace v4ui
