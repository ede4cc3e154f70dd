#pragma once

#include <QString>

#include <optional>
#include <utility>
#include <variant>

namespace holdfast {

// One error type for the whole service; src/http/httperror.h maps each code to its HTTP status.
enum class ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Invalid,
    RateLimited,
    Internal,
    UpstreamError,
    Unavailable,
    UpstreamTimeout,
};

// The wire name of a code, as in shared/API.md ("not_found", ...).
QString errorCodeName(ErrorCode code);
std::optional<ErrorCode> errorCodeFromName(const QString &name);

struct Error
{
    ErrorCode code = ErrorCode::Internal;
    QString message;
};

struct Ok
{};

// A value or an Error. Coroutines return Result<T> instead of throwing.
template <typename T> class Result
{
public:
    Result(T value) : m_data(std::move(value)) {}
    Result(Error error) : m_data(std::move(error)) {}

    bool ok() const { return m_data.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() { return std::get<0>(m_data); }
    const T &value() const { return std::get<0>(m_data); }
    T &operator*() { return value(); }
    const T &operator*() const { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }

    const Error &error() const { return std::get<1>(m_data); }

private:
    std::variant<T, Error> m_data;
};

using Status = Result<Ok>;

inline Error makeError(ErrorCode code, QString message)
{
    return Error{code, std::move(message)};
}

} // namespace holdfast
