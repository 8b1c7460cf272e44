// Light and dark themes: one style sheet (resources/styles/app.qss) filled from a palette.
#pragma once

#include <QString>

class QApplication;

namespace v4ui {

enum class ThemeChoice { System, Light, Dark };

// Applies the palette and style sheet to the whole application.
void applyTheme(QApplication & app, ThemeChoice choice, int fontPixelSize = 14);

// True when the system (or the choice) asks for dark.
bool isDark(ThemeChoice choice);

QString     themeChoiceName(ThemeChoice choice);  // "system", "light", "dark"
ThemeChoice themeChoiceFromName(const QString & name); // unknown -> System

// What Settings > Appearance saves (settings.ini, group "appearance").
struct Appearance {
    static constexpr int kMinFontPx = 11;
    static constexpr int kMaxFontPx = 22;
    ThemeChoice theme = ThemeChoice::System;
    int         fontPixelSize = 14;
};
Appearance loadAppearance(const QString & settingsPath);
void       saveAppearance(const QString & settingsPath, const Appearance & appearance);
void       applyAppearance(const Appearance & appearance); // to the running QApplication

} // namespace v4ui
