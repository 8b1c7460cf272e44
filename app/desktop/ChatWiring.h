// Connects the main window to a chat controller (and, for the local engine, to its backend's
// model-loading signals): the one place where widgets meet app/ objects. Used by the app, its
// self-check and the GUI tests (with a scripted backend).
#pragma once

namespace v4ui {
class MainWindow;
}

namespace v4app {

class ChatController;
class ConversationStore;
class LocalBackend;

void wireChat(v4ui::MainWindow & window, ChatController & controller, ConversationStore & store);
void wireLocalBackend(v4ui::MainWindow & window, ChatController & controller, LocalBackend & backend);

} // namespace v4app
