#include "ConversationSidebar.h"

#include <QDateTime>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPushButton>
#include <QSaveFile>
#include <QVBoxLayout>

#include "storage/ConversationStore.h"

namespace v4ui {

namespace {

constexpr int kIdRole    = Qt::UserRole;     // conversation id; 0 on group headers
constexpr int kPinnedRole = Qt::UserRole + 1;

QString groupOf(const v4app::ConversationInfo & c, const QDate & today) {
    if (c.pinned) {
        return QObject::tr("Pinned");
    }
    const QDate day = QDateTime::fromMSecsSinceEpoch(c.updatedAt).date();
    const qint64 age = day.daysTo(today);
    if (age <= 0) return QObject::tr("Today");
    if (age == 1) return QObject::tr("Yesterday");
    if (age < 7) return QObject::tr("Previous 7 days");
    if (age < 30) return QObject::tr("Previous 30 days");
    return QObject::tr("Older");
}

} // namespace

ConversationSidebar::ConversationSidebar(QWidget * parent) : QWidget(parent) {
    setObjectName(QStringLiteral("Sidebar"));
    setMinimumWidth(200);
    setAttribute(Qt::WA_StyledBackground);
    auto * layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 14, 12, 12);
    layout->setSpacing(10);

    auto * header = new QHBoxLayout;
    auto * title  = new QLabel(tr("V4 Chat"), this);
    title->setObjectName(QStringLiteral("SidebarTitle"));
    auto * newChat = new QPushButton(tr("New chat"), this);
    newChat->setObjectName(QStringLiteral("NewChatButton"));
    newChat->setAccessibleName(tr("New chat"));
    newChat->setToolTip(tr("Start a new conversation (Ctrl+N)"));
    connect(newChat, &QPushButton::clicked, this, &ConversationSidebar::newChatRequested);
    header->addWidget(title);
    header->addStretch();
    header->addWidget(newChat);
    layout->addLayout(header);

    m_search = new QLineEdit(this);
    m_search->setObjectName(QStringLiteral("ConversationSearch"));
    m_search->setPlaceholderText(tr("Search conversations"));
    m_search->setAccessibleName(tr("Search conversations"));
    m_search->setClearButtonEnabled(true);
    layout->addWidget(m_search);
    m_searchDelay.setSingleShot(true);
    m_searchDelay.setInterval(120); // one query per pause in typing, not per key
    connect(m_search, &QLineEdit::textChanged, &m_searchDelay, qOverload<>(&QTimer::start));
    connect(&m_searchDelay, &QTimer::timeout, this, &ConversationSidebar::refresh);

    m_list = new QListWidget(this);
    m_list->setObjectName(QStringLiteral("ConversationList"));
    m_list->setAccessibleName(tr("Conversations"));
    m_list->setContextMenuPolicy(Qt::CustomContextMenu);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_list->setWordWrap(false);
    m_list->setTextElideMode(Qt::ElideRight); // long titles end in "…"; the tooltip has all of it
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_list->installEventFilter(this);
    connect(m_list, &QListWidget::customContextMenuRequested, this, &ConversationSidebar::showMenu);
    connect(m_list, &QListWidget::currentItemChanged, this, [this](QListWidgetItem * item) {
        const qint64 id = item ? item->data(kIdRole).toLongLong() : 0;
        if (m_filling || id == 0 || id == m_current) {
            return;
        }
        m_current = id;
        emit selected(id);
    });
    connect(m_list, &QListWidget::itemChanged, this, [this](QListWidgetItem * item) {
        const qint64 id = item->data(kIdRole).toLongLong();
        if (m_filling || id == 0 || !m_store) {
            return;
        }
        const QString newTitle = item->text().simplified();
        if (auto s = m_store->renameConversation(id, newTitle.isEmpty() ? tr("Untitled") : newTitle); !s) {
            emit problem(s.error().message);
        }
    });
    layout->addWidget(m_list, 1);

    auto * setup = new QPushButton(tr("Models and setup…"), this);
    setup->setAccessibleName(tr("Models and setup"));
    connect(setup, &QPushButton::clicked, this, &ConversationSidebar::setupRequested);
    layout->addWidget(setup);
}

void ConversationSidebar::setStore(v4app::ConversationStore * store) {
    if (m_store) {
        disconnect(m_store, nullptr, this, nullptr);
    }
    m_store = store;
    if (m_store) {
        connect(m_store, &v4app::ConversationStore::conversationsChanged, this, &ConversationSidebar::refresh);
    }
    refresh();
}

void ConversationSidebar::focusSearch() {
    m_search->setFocus();
    m_search->selectAll();
}

void ConversationSidebar::refresh() {
    const QString text = m_search->text().trimmed();
    if (text.isEmpty()) {
        fillList();
    } else {
        fillSearch(text);
    }
}

void ConversationSidebar::addHeader(const QString & text) {
    auto * item = new QListWidgetItem(text.toUpper(), m_list);
    item->setFlags(Qt::NoItemFlags);
    item->setData(kIdRole, 0);
    QFont font = item->font();
    font.setPointSizeF(font.pointSizeF() * 0.8);
    font.setBold(true);
    item->setFont(font);
    item->setForeground(palette().color(QPalette::PlaceholderText));
}

void ConversationSidebar::fillList() {
    m_filling = true;
    m_list->clear();
    if (m_store) {
        auto conversations = m_store->listConversations();
        if (!conversations) {
            emit problem(conversations.error().message);
        } else {
            const QDate today = QDate::currentDate();
            QString     group;
            for (const auto & c : conversations.value()) {
                const QString g = groupOf(c, today);
                if (g != group) {
                    addHeader(g);
                    group = g;
                }
                auto * item = new QListWidgetItem(c.title.isEmpty() ? tr("Untitled") : c.title, m_list);
                item->setData(kIdRole, c.id);
                item->setData(kPinnedRole, c.pinned);
                item->setToolTip(c.title);
                item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled | Qt::ItemIsEditable);
                if (c.id == m_current) {
                    m_list->setCurrentItem(item);
                }
            }
        }
    }
    m_filling = false;
}

void ConversationSidebar::fillSearch(const QString & text) {
    m_filling = true;
    m_list->clear();
    auto hits = m_store ? m_store->search(text, 50) : v4app::Expected<QVector<v4app::SearchHit>>(QVector<v4app::SearchHit>{});
    if (!hits) {
        emit problem(hits.error().message);
    } else if (hits->isEmpty()) {
        addHeader(tr("No matches"));
    } else {
        addHeader(tr("%n result(s)", nullptr, static_cast<int>(hits->size())));
        for (const auto & hit : hits.value()) {
            QString snippet = hit.snippet;
            snippet.replace(QLatin1Char('['), QString()).replace(QLatin1Char(']'), QString());
            auto * item = new QListWidgetItem(snippet.isEmpty() ? hit.title : hit.title + QLatin1Char('\n') + snippet, m_list);
            item->setData(kIdRole, hit.conversationId);
            item->setToolTip(snippet.isEmpty() ? hit.title : snippet);
            if (hit.conversationId == m_current) {
                m_list->setCurrentItem(item);
            }
        }
    }
    m_filling = false;
}

void ConversationSidebar::setCurrent(qint64 conversationId) {
    m_current = conversationId;
    m_filling = true;
    m_list->setCurrentItem(nullptr);
    for (int i = 0; i < m_list->count(); ++i) {
        if (m_list->item(i)->data(kIdRole).toLongLong() == conversationId && conversationId != 0) {
            m_list->setCurrentItem(m_list->item(i));
            break;
        }
    }
    m_filling = false;
}

void ConversationSidebar::renameConversation(qint64 id) {
    for (int i = 0; i < m_list->count(); ++i) {
        if (m_list->item(i)->data(kIdRole).toLongLong() == id) {
            m_list->editItem(m_list->item(i)); // itemChanged saves it
            return;
        }
    }
}

void ConversationSidebar::deleteConversation(qint64 id) {
    if (!m_store) {
        return;
    }
    auto info = m_store->conversation(id);
    if (auto s = m_store->deleteConversation(id); !s) {
        emit problem(s.error().message);
        return;
    }
    emit deleted(id, info ? info->title : QString());
}

void ConversationSidebar::togglePinned(qint64 id) {
    auto info = m_store ? m_store->conversation(id) : v4app::Expected<v4app::ConversationInfo>(v4app::ConversationInfo{});
    if (!m_store || !info) {
        return;
    }
    if (auto s = m_store->setPinned(id, !info->pinned); !s) {
        emit problem(s.error().message);
    }
}

void ConversationSidebar::showMenu(const QPoint & pos) {
    QListWidgetItem * item = m_list->itemAt(pos);
    const qint64      id   = item ? item->data(kIdRole).toLongLong() : 0;
    QMenu menu(this);
    if (id != 0) {
        menu.addAction(tr("Rename"), this, [this, id] { renameConversation(id); });
        menu.addAction(item->data(kPinnedRole).toBool() ? tr("Unpin") : tr("Pin"), this, [this, id] { togglePinned(id); });
        menu.addAction(tr("Export…"), this, [this, id] {
            const QString path = QFileDialog::getSaveFileName(this, tr("Export conversation"), QString(),
                                                              tr("Markdown (*.md);;V4 Chat JSON (*.json)"));
            if (!path.isEmpty()) exportConversation(id, path);
        });
        menu.addSeparator();
        menu.addAction(tr("Delete"), this, [this, id] { deleteConversation(id); });
        menu.addSeparator();
    }
    menu.addAction(tr("Import conversation…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import conversation"), QString(), tr("V4 Chat JSON (*.json)"));
        if (!path.isEmpty()) importConversation(path);
    });
    menu.exec(m_list->viewport()->mapToGlobal(pos));
}

bool ConversationSidebar::exportConversation(qint64 id, const QString & path) {
    if (!m_store) return false;
    const bool markdown = QFileInfo(path).suffix().compare(QLatin1String("md"), Qt::CaseInsensitive) == 0;
    QByteArray bytes;
    if (markdown) {
        auto text = m_store->exportMarkdown(id, v4app::ExportScope::ActiveBranch);
        if (!text) {
            emit problem(text.error().message);
            return false;
        }
        bytes = text->toUtf8();
    } else {
        auto json = m_store->exportJson(id, v4app::ExportScope::AllBranches);
        if (!json) {
            emit problem(json.error().message);
            return false;
        }
        bytes = *json;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        emit problem(tr("Could not write “%1”: %2").arg(QFileInfo(path).fileName(), file.errorString()));
        return false;
    }
    return true;
}

bool ConversationSidebar::importConversation(const QString & path) {
    if (!m_store) return false;
    auto id = m_store->importJsonFile(path);
    if (!id) {
        emit problem(tr("Could not import “%1”: %2").arg(QFileInfo(path).fileName(), id.error().message));
        return false;
    }
    refresh();
    emit selected(*id);
    return true;
}

bool ConversationSidebar::eventFilter(QObject * watched, QEvent * event) {
    if (watched == m_list && event->type() == QEvent::KeyPress && m_list->currentItem()) {
        const auto * key = static_cast<QKeyEvent *>(event);
        const qint64 id  = m_list->currentItem()->data(kIdRole).toLongLong();
        if (id != 0 && key->key() == Qt::Key_Delete) {
            deleteConversation(id);
            return true;
        }
        if (id != 0 && key->key() == Qt::Key_F2) {
            renameConversation(id);
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace v4ui
