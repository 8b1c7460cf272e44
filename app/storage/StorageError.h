// Errors of the storage layer as values (STYLE.md convention 16): every call that can fail returns
// Expected<T> (a value or a StorageError) or Status (= Expected<void>). Nothing in app/storage throws
// or aborts; the message is written for people and names the file and what to do.
#pragma once

#include <QMetaType>
#include <QString>

#include <optional>
#include <utility>
#include <variant>

namespace v4app {

struct StorageError {
    enum class Kind {
        NotADatabase, // the file is not SQLite at all (or encrypted): never overwritten
        Corrupt,      // SQLite says the file is damaged, or integrity_check failed
        TooNew,       // written by a newer V4 Chat (schema version above what we know)
        ReadOnly,     // file or folder not writable
        DiskFull,     // SQLITE_FULL: the disk (or the page limit) is full
        Io,           // any other I/O error, or the file cannot be opened
        Busy,         // another process holds the lock longer than the busy timeout
        NotFound,     // no such conversation or message
        InvalidInput, // an import file that fails validation, an empty title, ...
        Sql,          // constraint or programming error: a bug, reported rather than crashing
    };
    Kind    kind = Kind::Io;
    int     sqliteCode = 0; // extended SQLite result code; 0 when the error did not come from SQLite
    QString message;        // for people: what happened and what to do

    static StorageError make(Kind kind, QString message) { return {kind, 0, std::move(message)}; }
};

QString storageErrorKindName(StorageError::Kind kind);

// A value or an error, in the spirit of std::expected (C++23), which our compilers lack.
template <typename T> class [[nodiscard]] Expected {
public:
    Expected(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Expected(StorageError error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool     hasValue() const { return m_v.index() == 0; }
    explicit operator bool() const { return hasValue(); }

    T &                  value() { return std::get<0>(m_v); }
    const T &            value() const { return std::get<0>(m_v); }
    T *                  operator->() { return &std::get<0>(m_v); }
    T &                  operator*() { return std::get<0>(m_v); }
    const StorageError & error() const { return std::get<1>(m_v); }

private:
    std::variant<T, StorageError> m_v;
};

template <> class [[nodiscard]] Expected<void> {
public:
    Expected() = default;
    Expected(StorageError error) : m_error(std::move(error)) {}

    bool                 hasValue() const { return !m_error.has_value(); }
    explicit operator bool() const { return hasValue(); }
    const StorageError & error() const { return *m_error; }

private:
    std::optional<StorageError> m_error;
};

using Status = Expected<void>;

} // namespace v4app

Q_DECLARE_METATYPE(v4app::StorageError)
