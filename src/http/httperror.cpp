#include "http/httperror.h"

namespace holdfast {

int httpStatus(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadRequest:
        return 400;
    case ErrorCode::Unauthorized:
        return 401;
    case ErrorCode::Forbidden:
        return 403;
    case ErrorCode::NotFound:
        return 404;
    case ErrorCode::MethodNotAllowed:
        return 405;
    case ErrorCode::Conflict:
        return 409;
    case ErrorCode::PayloadTooLarge:
        return 413;
    case ErrorCode::UnsupportedMediaType:
        return 415;
    case ErrorCode::Invalid:
        return 422;
    case ErrorCode::RateLimited:
        return 429;
    case ErrorCode::Internal:
        return 500;
    case ErrorCode::UpstreamError:
        return 502;
    case ErrorCode::Unavailable:
        return 503;
    case ErrorCode::UpstreamTimeout:
        return 504;
    }
    return 500;
}

} // namespace holdfast
