// Drives the real main window: typing and Enter send a message, Shift+Enter makes a newline,
// the mode switch reports the chosen mode, the status bar shows what it is given.
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QTextBrowser>
#include <QToolButton>

#include "MainWindow.h"

using v4ui::MainWindow;

class TestMainWindow : public QObject {
    Q_OBJECT

private slots:
    void enterSendsAndShiftEnterMakesANewline() {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto * composer = window.findChild<QPlainTextEdit *>();
        QVERIFY(composer);
        QSignalSpy sent(&window, &MainWindow::sendRequested);

        composer->setFocus();
        QTest::keyClicks(composer, QStringLiteral("first line"));
        QTest::keyClick(composer, Qt::Key_Return, Qt::ShiftModifier);
        QTest::keyClicks(composer, QStringLiteral("second line"));
        QCOMPARE(sent.count(), 0);
        QCOMPARE(composer->toPlainText(), QStringLiteral("first line\nsecond line"));

        QTest::keyClick(composer, Qt::Key_Return);
        QCOMPARE(sent.count(), 1);
        QCOMPARE(sent.at(0).at(0).toString(), QStringLiteral("first line\nsecond line"));
        QVERIFY(composer->toPlainText().isEmpty());
        auto * view = window.findChild<QTextBrowser *>(QStringLiteral("ChatView"));
        QVERIFY(view);
        QVERIFY(view->toPlainText().contains(QStringLiteral("second line")));
    }

    void sendButtonIsDisabledForBlankText() {
        MainWindow window;
        auto * send = window.findChild<QPushButton *>(QStringLiteral("PrimaryButton"));
        auto * composer = window.findChild<QPlainTextEdit *>();
        QVERIFY(send && composer);
        QVERIFY(!send->isEnabled());
        composer->setPlainText(QStringLiteral("   \n "));
        QVERIFY(!send->isEnabled());
        composer->setPlainText(QStringLiteral("hi"));
        QVERIFY(send->isEnabled());
    }

    void modeSwitchSelectsMode() {
        MainWindow window;
        QCOMPARE(window.mode(), MainWindow::Mode::Auto);
        for (QToolButton * button : window.findChildren<QToolButton *>()) {
            if (button->text() == QStringLiteral("Expert")) {
                button->click();
            }
        }
        QCOMPARE(window.mode(), MainWindow::Mode::Expert);
    }

    void statusBarShowsBackendAndContext() {
        MainWindow window;
        window.setBackendStatus(QStringLiteral("CPU"), QStringLiteral("gemma-3-270m"));
        window.setContextUsage(1234, 8192);
        QStringList texts;
        for (QLabel * label : window.findChildren<QLabel *>()) {
            texts << label->text();
        }
        const QString all = texts.join(QLatin1Char('|'));
        QVERIFY2(all.contains(QStringLiteral("CPU · gemma-3-270m")), qPrintable(all));
        QVERIFY2(all.contains(QStringLiteral("1,234 / 8,192 tokens")), qPrintable(all));
    }

    void modelLoadingShowsAProgressBar() {
        MainWindow window;
        window.show();
        QProgressBar * bar = window.loadProgressBar();
        QVERIFY(!bar->isVisible());
        window.setLoadProgress(0.0);
        QVERIFY(bar->isVisible());
        window.setLoadProgress(0.42);
        QCOMPARE(bar->value(), 42);
        window.setLoadProgress(1.0); // loaded, or failed: the bar goes away
        QVERIFY(!bar->isVisible());
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
