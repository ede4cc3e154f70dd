#include "core/error.h"

#include <array>

namespace holdfast {

namespace {
struct CodeInfo
{
    ErrorCode code;
    const char *name;
};

constexpr std::array<CodeInfo, 14> kCodes{{
    {ErrorCode::BadRequest, "bad_request"},
    {ErrorCode::Unauthorized, "unauthorized"},
    {ErrorCode::Forbidden, "forbidden"},
    {ErrorCode::NotFound, "not_found"},
    {ErrorCode::MethodNotAllowed, "method_not_allowed"},
    {ErrorCode::Conflict, "conflict"},
    {ErrorCode::PayloadTooLarge, "payload_too_large"},
    {ErrorCode::UnsupportedMediaType, "unsupported_media_type"},
    {ErrorCode::Invalid, "invalid"},
    {ErrorCode::RateLimited, "rate_limited"},
    {ErrorCode::Internal, "internal"},
    {ErrorCode::UpstreamError, "upstream_error"},
    {ErrorCode::Unavailable, "unavailable"},
    {ErrorCode::UpstreamTimeout, "upstream_timeout"},
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

} // namespace holdfast
