#pragma once

// A self-signed certificate (EC P-256, for localhost and 127.0.0.1, valid until 2126) and its key,
// for the TLS mode of the fake model server. Test material only.

namespace holdfast::test {

inline constexpr char kTestCertificate[] = R"(-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUdW2knglKscC7oAJMrmWKbaHMnHUwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwNjIzMzYzNloYDzIxMjYxMTEy
MjMzNjM2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARqyzCvxVydhZsBx8lZkENa3pHz1p/Rk+driwV1fZnN8HyO7GzqVvXT
88tvvAy2blDHnvablj6LfPhcPHLsVm6So28wbTAdBgNVHQ4EFgQUtse8Yb0Iw3ZN
kZTEGn9ao4zYYRMwHwYDVR0jBBgwFoAUtse8Yb0Iw3ZNkZTEGn9ao4zYYRMwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIhAOBVRI7gyyz7d599WoORMjYiXowd9igeHjjAw60X0tavAiBD
ZNsyY9ueqxb0hnosHGhPK1QP+TlOAbm7ZTLopOgFNQ==
-----END CERTIFICATE-----)";

inline constexpr char kTestPrivateKey[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvrooVqft2QkCAVOg
3j+CnCqrTXj2ZHvQwhWQgFqctWmhRANCAARqyzCvxVydhZsBx8lZkENa3pHz1p/R
k+driwV1fZnN8HyO7GzqVvXT88tvvAy2blDHnvablj6LfPhcPHLsVm6S
-----END PRIVATE KEY-----)";

} // namespace holdfast::test
