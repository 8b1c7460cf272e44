// SettingsDialog: Backends, Modes, Models, Appearance and Data pages on the left, one page at a
// time on the right. OK applies and closes, Apply applies and stays, Cancel (or Esc) throws the
// edits away and undoes the live theme preview. Nothing is written while any page reports a
// problem; the problems are listed at the top of the dialog.
//
//     SettingsDialog dialog(profiles, keys, AppPaths::settingsPath(), window);
//     dialog.showPage(SettingsDialog::Page::Modes);
//     dialog.exec();
#pragma once

#include <QDialog>
#include <QVector>

class QDialogButtonBox;
class QLabel;
class QListWidget;
class QPushButton;
class QStackedWidget;

namespace v4app {
class EndpointKeys;
class ProfileStore;
} // namespace v4app

namespace v4ui {

class AppearancePage;
class BackendsPage;
class DataPage;
class ModelsPage;
class ModesPage;
class SettingsPage;

class SettingsDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)

public:
    enum class Page { Backends, Modes, Models, Appearance, Data };

    SettingsDialog(v4app::ProfileStore & profiles, v4app::EndpointKeys & keys, const QString & settingsPath,
                   QWidget * parent = nullptr);

    void showPage(Page page);
    bool apply(); // false (and the problems shown) when a page is not valid

    BackendsPage *   backendsPage() const { return m_backends; }
    ModesPage *      modesPage() const { return m_modes; }
    ModelsPage *     modelsPage() const { return m_models; }
    AppearancePage * appearancePage() const { return m_appearance; }
    QPushButton *    applyButton() const;
    QPushButton *    okButton() const;
    QPushButton *    cancelButton() const;
    QLabel *         problemsLabel() const { return m_problems; }

public slots:
    void accept() override;
    void reject() override;

signals:
    void applied();

private:
    QListWidget *    m_nav = nullptr;
    QStackedWidget * m_stack = nullptr;
    QLabel *         m_problems = nullptr;
    QDialogButtonBox * m_buttons = nullptr;
    QVector<SettingsPage *> m_pages;
    BackendsPage *   m_backends = nullptr;
    ModesPage *      m_modes = nullptr;
    ModelsPage *     m_models = nullptr;
    AppearancePage * m_appearance = nullptr;
    DataPage *       m_data = nullptr;
};

} // namespace v4ui
