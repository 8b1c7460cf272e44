// `v4chat --selftest`: opens the main window (offscreen when there is no display), checks that
// the app can work on this machine, prints one line per check and returns the exit code.
// Packaging tests run it from the unpacked .deb.
#pragma once

class QApplication;

namespace v4app {

int runSelfTest(QApplication & app);

} // namespace v4app
