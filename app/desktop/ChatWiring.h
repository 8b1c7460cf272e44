// Connects the main window to a chat controller and the local backend: the one place where
// widgets meet app/ objects. Used by the app and by its self-check.
#pragma once

namespace v4ui {
class MainWindow;
}

namespace v4app {

class ChatController;
class LocalBackend;

void wireChat(v4ui::MainWindow & window, ChatController & controller, LocalBackend & backend);

} // namespace v4app
