#include "core/error.h"

#include <array>

namespace holdfast {

namespace {
struct CodeInfo
{
    ErrorCode code;
    const char *name;
    int status;
};

constexpr std::array<CodeInfo, 14> kCodes{{
    {ErrorCode::BadRequest, "bad_request", 400},
    {ErrorCode::Unauthorized, "unauthorized", 401},
    {ErrorCode::Forbidden, "forbidden", 403},
    {ErrorCode::NotFound, "not_found", 404},
    {ErrorCode::MethodNotAllowed, "method_not_allowed", 405},
    {ErrorCode::Conflict, "conflict", 409},
    {ErrorCode::PayloadTooLarge, "payload_too_large", 413},
    {ErrorCode::UnsupportedMediaType, "unsupported_media_type", 415},
    {ErrorCode::Invalid, "invalid", 422},
    {ErrorCode::RateLimited, "rate_limited", 429},
    {ErrorCode::Internal, "internal", 500},
    {ErrorCode::UpstreamError, "upstream_error", 502},
    {ErrorCode::Unavailable, "unavailable", 503},
    {ErrorCode::UpstreamTimeout, "upstream_timeout", 504},
}};
} // namespace

QString errorCodeName(ErrorCode code)
{
    for (const auto &info : kCodes) {
        if (info.code == code)
            return QString::fromLatin1(info.name);
    }
    return QStringLiteral("internal");
}

std::optional<ErrorCode> errorCodeFromName(const QString &name)
{
    for (const auto &info : kCodes) {
        if (name == QLatin1String(info.name))
            return info.code;
    }
    return std::nullopt;
}

int httpStatus(ErrorCode code)
{
    for (const auto &info : kCodes) {
        if (info.code == code)
            return info.status;
    }
    return 500;
}

} // namespace holdfast
