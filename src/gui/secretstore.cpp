#include "gui/secretstore.h"

#ifdef HOLDFAST_WITH_KEYCHAIN
#include <qt6keychain/keychain.h>
#endif

#include <QCoroSignal>

namespace holdfast::secrets {

namespace {
const QString kService = QStringLiteral("holdfast");
}

bool available()
{
#ifdef HOLDFAST_WITH_KEYCHAIN
    return true;
#else
    return false;
#endif
}

QCoro::Task<QString> read(QString key)
{
#ifdef HOLDFAST_WITH_KEYCHAIN
    auto *job = new QKeychain::ReadPasswordJob(kService);
    job->setKey(key);
    job->setAutoDelete(true);
    job->start();
    co_await qCoro(job, &QKeychain::Job::finished);
    co_return job->error() == QKeychain::NoError ? job->textData() : QString();
#else
    Q_UNUSED(key);
    co_return QString();
#endif
}

QCoro::Task<bool> write(QString key, QString value)
{
#ifdef HOLDFAST_WITH_KEYCHAIN
    QKeychain::Job *job = nullptr;
    if (value.isEmpty()) {
        auto *remove = new QKeychain::DeletePasswordJob(kService);
        remove->setKey(key);
        job = remove;
    } else {
        auto *save = new QKeychain::WritePasswordJob(kService);
        save->setKey(key);
        save->setTextData(value);
        job = save;
    }
    job->setAutoDelete(true);
    job->start();
    co_await qCoro(job, &QKeychain::Job::finished);
    co_return job->error() == QKeychain::NoError || job->error() == QKeychain::EntryNotFound;
#else
    Q_UNUSED(key);
    Q_UNUSED(value);
    co_return false;
#endif
}

QCoro::Task<bool> reachable()
{
#ifdef HOLDFAST_WITH_KEYCHAIN
    auto *job = new QKeychain::ReadPasswordJob(kService);
    job->setKey(QStringLiteral("holdfast-probe"));
    job->setAutoDelete(true);
    job->start();
    co_await qCoro(job, &QKeychain::Job::finished);
    co_return job->error() == QKeychain::NoError || job->error() == QKeychain::EntryNotFound;
#else
    co_return false;
#endif
}

} // namespace holdfast::secrets
