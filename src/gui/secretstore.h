#pragma once

#include <QCoroTask>
#include <QString>

namespace holdfast::secrets {

// Secrets (the provider's API key, the server's token) live in the system keychain through
// QtKeychain, never in the plain settings file. Both calls are asynchronous.
bool available();
QCoro::Task<QString> read(QString key);              // "" when absent or on error
QCoro::Task<bool> write(QString key, QString value); // an empty value deletes it

} // namespace holdfast::secrets
