// The settings file (src/app/settings: QSettings' INI format, our keys, [provider.NAME] groups)
// and the providers built from it (src/app/providersetup).
// Input: the file's bytes. Checks: no crash; load() either succeeds or says why; a loaded
// configuration prints; providers are built or refused with a message.
#include "app/providersetup.h"
#include "app/settings.h"
#include "core/providerregistry.h"
#include "fuzzsupport.h"

#include <QDir>
#include <QFile>
#include <QProcessEnvironment>
#include <QTemporaryDir>

using namespace holdfast;

namespace {
// A new name per input: QSettings caches a file's contents by path and modification time.
QString configPath()
{
    static QTemporaryDir dir; // removed at exit
    static quint64 count = 0;
    return dir.filePath(QStringLiteral("holdfast-%1.conf").arg(++count));
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::initQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = configPath();
    {
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            abort();
        file.write(reinterpret_cast<const char *>(data), qint64(size));
    }
    Settings settings;
    QString error;
    const bool loaded =
        settings.load({QStringLiteral("holdfast"), QStringLiteral("--config"), path},
                      QProcessEnvironment(), &error);
    QFile::remove(path);
    FUZZ_CHECK(loaded || !error.isEmpty());
    if (!loaded)
        return 0;
    // Secrets never reach --print-config.
    const QStringList lines = settings.printConfig().split(QLatin1Char('\n'));
    const bool hasToken = !settings.value(QStringLiteral("token")).isEmpty();
    for (const QString &line : lines) {
        if (line.startsWith(QLatin1String("token = ")))
            FUZZ_CHECK(!hasToken || line.startsWith(QLatin1String("token = ********    #")));
    }
    ProviderRegistry registry;
    const Status providers = setupProviders(settings, &registry);
    FUZZ_CHECK(providers.ok() || !providers.error().message.isEmpty());
    return 0;
}
