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

} // namespace v4ui
