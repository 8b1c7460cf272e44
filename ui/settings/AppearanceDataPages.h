// Settings > Appearance (theme and font size, previewed live, reverted on Cancel) and
// Settings > Data (where V4 Chat keeps its files, with buttons to open the folders).
#pragma once

#include "Theme.h"
#include "settings/SettingsPage.h"

class QButtonGroup;
class QSpinBox;

namespace v4ui {

class AppearancePage final : public SettingsPage {
    Q_OBJECT

public:
    explicit AppearancePage(QString settingsPath, QWidget * parent = nullptr);

    QString title() const override { return tr("Appearance"); }
    void    load() override;
    void    apply() override;
    void    discard() override; // back to the saved look

    Appearance chosen() const;
    void       choose(ThemeChoice theme); // as clicking its button
    QSpinBox * fontSizeBox() const { return m_fontSize; }

private:
    void preview();

    QString        m_settingsPath;
    Appearance     m_saved;
    QButtonGroup * m_theme = nullptr;
    QSpinBox *     m_fontSize = nullptr;
};

class DataPage final : public SettingsPage {
    Q_OBJECT

public:
    explicit DataPage(QWidget * parent = nullptr);

    QString title() const override { return tr("Data"); }
    void    load() override;
    void    apply() override {}
};

} // namespace v4ui
