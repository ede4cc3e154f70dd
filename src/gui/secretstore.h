#pragma once

#include <QCoroTask>
#include <QString>

namespace holdfast::secrets {

// Secrets (the provider's API key, the server's token) live in the system keychain through
// QtKeychain, never in the plain settings file. Both calls are asynchronous.
bool available();
QCoro::Task<QString> read(QString key);              // "" when absent or on error
QCoro::Task<bool> write(QString key, QString value); // an empty value deletes it
// Whether a keychain service answers at run time (built in is not enough: a session without
// Secret Service or KWallet has none).
QCoro::Task<bool> reachable();

} // namespace holdfast::secrets
