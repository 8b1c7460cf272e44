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

namespace documents {
class DocumentsController;
}

void wireChat(v4ui::MainWindow & window, ChatController & controller, ConversationStore & store);
// The Documents and Source docks, and the documents' passages in the chat's prompts.
void wireDocuments(v4ui::MainWindow & window, ChatController & controller, documents::DocumentsController & documents);
void wireLocalBackend(v4ui::MainWindow & window, ChatController & controller, LocalBackend & backend);

} // namespace v4app
