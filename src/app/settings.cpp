#include "app/settings.h"

#include "core/redact.h"

#include <QDir>
#include <QFileInfo>
#include <QHostAddress>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QTextStream>

namespace holdfast {

namespace {
bool isSecret(const QString &name)
{
    return name == QLatin1String("token") || name == QLatin1String("api-key");
}

// "a, b,,c" -> {"a", "b", "c"}
QStringList splitList(const QString &value)
{
    QStringList items;
    for (const QString &item : value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        if (!item.trimmed().isEmpty())
            items.append(item.trimmed());
    }
    return items;
}
} // namespace

const QList<Settings::Option> &Settings::options()
{
    using T = Type;
    static const QList<Option> list{
        {QStringLiteral("headless"),
         T::Flag,
         {},
         {},
         QStringLiteral("Run the service without a window.")},
        {QStringLiteral("listen"),
         T::String,
         QStringLiteral("HOST:PORT"),
         {},
         QStringLiteral("Serve the HTTP API on HOST:PORT (port 0: any free port).")},
        {QStringLiteral("connect"),
         T::String,
         QStringLiteral("URL"),
         {},
         QStringLiteral("Open the window on a remote Holdfast at URL.")},
        {QStringLiteral("token"),
         T::String,
         QStringLiteral("TOKEN"),
         {},
         QStringLiteral("Bearer token the API requires (and --connect sends).")},
        {QStringLiteral("store"),
         T::String,
         QStringLiteral("SPEC"),
         {},
         QStringLiteral("Where sessions live: sqlite:PATH, redis://HOST:PORT/DB or memory:.")},
        {QStringLiteral("language"),
         T::String,
         QStringLiteral("CODE"),
         {},
         QStringLiteral("Language of the window: de or en (default: the system's).")},
        {QStringLiteral("provider"), T::String, QStringLiteral("NAME"), QStringLiteral("demo"),
         QStringLiteral("Model provider: demo, openai or ollama.")},
        {QStringLiteral("base-url"),
         T::String,
         QStringLiteral("URL"),
         {},
         QStringLiteral("Base URL of the openai or ollama server.")},
        {QStringLiteral("model"),
         T::String,
         QStringLiteral("MODEL"),
         {},
         QStringLiteral("Default model of new sessions.")},
        {QStringLiteral("api-key"),
         T::String,
         QStringLiteral("KEY"),
         {},
         QStringLiteral("API key sent to the openai provider.")},
        {QStringLiteral("context-tokens"),
         T::Int,
         QStringLiteral("N"),
         {},
         QStringLiteral("Context size of --provider's models in tokens: the budget of what goes "
                        "to the model (Ollama: also num_ctx; unset: the model's own)."),
         256,
         1LL << 30},
        {QStringLiteral("demo-chunks"), T::Int, QStringLiteral("N"), QStringLiteral("12"),
         QStringLiteral("Chunks per answer of the demo model."), 1, 100000},
        {QStringLiteral("demo-delay-ms"), T::Int, QStringLiteral("MS"), QStringLiteral("40"),
         QStringLiteral("Delay between demo chunks."), 0, 600000},
        {QStringLiteral("max-body-bytes"), T::Int, QStringLiteral("N"), QStringLiteral("1048576"),
         QStringLiteral("Largest request body accepted."), 1, 1LL << 34},
        {QStringLiteral("max-attachment-bytes"), T::Int, QStringLiteral("N"),
         QStringLiteral("20971520"),
         QStringLiteral("Largest file accepted by an upload (POST .../attachments)."), 1,
         1LL << 34},
        {QStringLiteral("max-header-bytes"), T::Int, QStringLiteral("N"), QStringLiteral("65536"),
         QStringLiteral("Largest request head (request line and headers) accepted."), 256,
         1LL << 24},
        {QStringLiteral("max-headers"), T::Int, QStringLiteral("N"), QStringLiteral("100"),
         QStringLiteral("Most header fields accepted in one request."), 1, 10000},
        {QStringLiteral("max-prompt-bytes"), T::Int, QStringLiteral("N"), QStringLiteral("262144"),
         QStringLiteral("Longest prompt accepted, in UTF-8 bytes."), 1, 1LL << 34},
        {QStringLiteral("max-loaded-sessions"), T::Int, QStringLiteral("N"), QStringLiteral("256"),
         QStringLiteral("Idle sessions kept in memory."), 1, 10000000},
        {QStringLiteral("max-streams-per-client"), T::Int, QStringLiteral("N"),
         QStringLiteral("2000"), QStringLiteral("Open event streams per client address."), 1,
         10000000},
        {QStringLiteral("max-connections"), T::Int, QStringLiteral("N"), QStringLiteral("16384"),
         QStringLiteral("Open HTTP connections in all; more are answered 503 and closed."), 1,
         10000000},
        {QStringLiteral("max-connections-per-client"), T::Int, QStringLiteral("N"),
         QStringLiteral("4096"),
         QStringLiteral("Open HTTP connections per client address; more get 503."), 1, 10000000},
        {QStringLiteral("head-timeout-ms"), T::Int, QStringLiteral("MS"), QStringLiteral("10000"),
         QStringLiteral("Time a request head may take from its first byte; then the connection "
                        "closes."),
         1, 3600000},
        {QStringLiteral("body-timeout-ms"), T::Int, QStringLiteral("MS"), QStringLiteral("30000"),
         QStringLiteral("Time a request body may go without a byte; then the connection closes."),
         1, 3600000},
        {QStringLiteral("max-buffered-bytes"), T::Int, QStringLiteral("N"),
         QStringLiteral("4194304"),
         QStringLiteral("Answer bytes queued per connection for a slow reader before the server "
                        "holds back."),
         65536, 1LL << 34},
        {QStringLiteral("connect-timeout-ms"), T::Int, QStringLiteral("MS"),
         QStringLiteral("10000"), QStringLiteral("Timeout to connect to a model server."), 1,
         3600000},
        {QStringLiteral("idle-timeout-ms"), T::Int, QStringLiteral("MS"), QStringLiteral("60000"),
         QStringLiteral("Timeout between bytes of a model's answer."), 1, 3600000},
        {QStringLiteral("max-response-bytes"), T::Int, QStringLiteral("N"),
         QStringLiteral("16777216"), QStringLiteral("Largest answer accepted from a model server."),
         1, 1LL << 34},
        {QStringLiteral("shutdown-timeout-ms"), T::Int, QStringLiteral("MS"),
         QStringLiteral("5000"), QStringLiteral("Bound on interrupting running turns at exit."), 0,
         3600000},
        {QStringLiteral("auto-title"),
         T::Flag,
         {},
         QStringLiteral("true"),
         QStringLiteral("Ask a chat's model for a short title after its first answer; on by "
                        "default (--auto-title=false keeps the first line of the first prompt).")},
        {QStringLiteral("tray"),
         T::Flag,
         {},
         {},
         QStringLiteral("Show an icon in the system tray (show/hide, new chat, quit); closing the "
                        "window then hides it there.")},
        {QStringLiteral("theme"), T::String, QStringLiteral("system|light|dark"),
         QStringLiteral("system"),
         QStringLiteral("Light or dark window: as the desktop (system), or forced.")},
        {QStringLiteral("mcp-config"),
         T::String,
         QStringLiteral("FILE"),
         {},
         QStringLiteral("The MCP servers whose tools chats may use: an mcp.json (default "
                        "~/.config/holdfast/mcp.json).")},
        {QStringLiteral("max-tool-rounds"), T::Int, QStringLiteral("N"), QStringLiteral("8"),
         QStringLiteral("Most rounds of tool calls in one answer."), 1, 1000},
        {QStringLiteral("tool-approval-timeout-ms"), T::Int, QStringLiteral("MS"),
         QStringLiteral("600000"),
         QStringLiteral("How long a tool call waits for approval before it is declined."), 1,
         86400000},
        {QStringLiteral("tool-timeout-ms"), T::Int, QStringLiteral("MS"), QStringLiteral("120000"),
         QStringLiteral("How long a tool may run; then its call ends with an error result."), 1,
         86400000},
        {QStringLiteral("cors-origin"),
         T::String,
         QStringLiteral("ORIGIN"),
         {},
         QStringLiteral("Allow browser pages from ORIGIN to call the API ('*': any page; "
                        "needs a token).")},
        {QStringLiteral("allowed-host"),
         T::List,
         QStringLiteral("NAME"),
         {},
         QStringLiteral("Also serve requests whose Host is NAME when there is no token "
                        "(repeatable).")},
        {QStringLiteral("log-level"), T::String, QStringLiteral("LEVEL"), QStringLiteral("info"),
         QStringLiteral("debug, info, warning or error.")},
    };
    return list;
}

QString Settings::envName(const QString &option)
{
    return QStringLiteral("HOLDFAST_") +
           option.toUpper().replace(QLatin1Char('-'), QLatin1Char('_'));
}

QString Settings::defaultConfigFile()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/holdfast/holdfast.conf");
}

QString Settings::defaultStore()
{
    return QStringLiteral("sqlite:") +
           QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/holdfast/holdfast.db");
}

static const Settings::Option *findOption(const QString &name)
{
    for (const auto &o : Settings::options()) {
        if (o.name == name)
            return &o;
    }
    return nullptr;
}

bool Settings::validate(const Option &option, const QString &value, const QString &where,
                        QString *error) const
{
    if (option.type == Type::Int) {
        bool ok = false;
        const qint64 n = value.trimmed().toLongLong(&ok);
        if (!ok || n < option.min || n > option.max) {
            *error =
                QStringLiteral("%1: invalid value '%2' for %3: expected an integer from %4 to %5")
                    .arg(where, value, option.name)
                    .arg(option.min)
                    .arg(option.max);
            return false;
        }
    } else if (option.type == Type::Flag) {
        const QString v = value.trimmed().toLower();
        if (!QStringList{QStringLiteral("true"), QStringLiteral("false"), QStringLiteral("1"),
                         QStringLiteral("0"), QStringLiteral("yes"), QStringLiteral("no"),
                         QStringLiteral("on"), QStringLiteral("off")}
                 .contains(v)) {
            *error = QStringLiteral("%1: invalid value '%2' for %3: expected true or false")
                         .arg(where, value, option.name);
            return false;
        }
    } else if (option.name == QLatin1String("allowed-host")) {
        // Names as the name part of a Host header carries them: no port, no scheme.
        static const QRegularExpression hostName(
            QStringLiteral("^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$"));
        for (QString item : splitList(value)) {
            if (item.startsWith(QLatin1Char('[')) && item.endsWith(QLatin1Char(']')))
                item = item.mid(1, item.size() - 2);
            if (!hostName.match(item).hasMatch() &&
                QHostAddress(item).protocol() != QAbstractSocket::IPv6Protocol) {
                *error = QStringLiteral("%1: invalid value '%2' for allowed-host: expected host "
                                        "names without a port, such as holdfast.internal")
                             .arg(where, item);
                return false;
            }
        }
    } else if (option.name == QLatin1String("log-level")) {
        if (!QStringList{QStringLiteral("debug"), QStringLiteral("info"), QStringLiteral("warning"),
                         QStringLiteral("error")}
                 .contains(value)) {
            *error = QStringLiteral("%1: invalid value '%2' for log-level: expected debug, info, "
                                    "warning or error")
                         .arg(where, value);
            return false;
        }
    } else if (option.name == QLatin1String("theme")) {
        if (!QStringList{QStringLiteral("system"), QStringLiteral("light"), QStringLiteral("dark")}
                 .contains(value.trimmed().toLower())) {
            *error = QStringLiteral("%1: invalid value '%2' for theme: expected system, light or "
                                    "dark")
                         .arg(where, value);
            return false;
        }
    } else if (option.name == QLatin1String("provider")) {
        if (!QStringList{QStringLiteral("demo"), QStringLiteral("openai"), QStringLiteral("ollama")}
                 .contains(value)) {
            *error = QStringLiteral("%1: invalid value '%2' for provider: expected demo, openai "
                                    "or ollama")
                         .arg(where, value);
            return false;
        }
    }
    return true;
}

bool Settings::readFile(const QString &path, bool mustExist, QString *error)
{
    QFileInfo info(path);
    if (!info.exists()) {
        if (mustExist) {
            *error = QStringLiteral("%1: no such settings file").arg(path);
            return false;
        }
        return true;
    }
    QSettings file(path, QSettings::IniFormat);
    if (file.status() != QSettings::NoError) {
        *error = QStringLiteral("%1: cannot read the settings file (format error)").arg(path);
        return false;
    }
    const QStringList keys = file.allKeys();
    for (const QString &key : keys) {
        const QString where = QStringLiteral("%1: key '%2'").arg(path, key);
        if (key.startsWith(QLatin1String("provider."))) {
            const qsizetype slash = key.indexOf(QLatin1Char('/'));
            if (slash < 0) {
                m_warnings.append(where + QStringLiteral(": unknown key (ignored)"));
                continue;
            }
            const QString name = key.mid(9, slash - 9);
            auto it = std::find_if(m_providers.begin(), m_providers.end(),
                                   [&](const ProviderEntry &e) { return e.name == name; });
            if (it == m_providers.end()) {
                m_providers.append(ProviderEntry{name, {}});
                it = m_providers.end() - 1;
            }
            const QVariant raw = file.value(key); // "a, b" reads as a list
            it->values.insert(key.mid(slash + 1), raw.typeId() == QMetaType::QStringList
                                                      ? raw.toStringList().join(QLatin1Char(','))
                                                      : raw.toString());
            continue;
        }
        const QString name = key.startsWith(QLatin1String("General/")) ? key.mid(8) : key;
        const Option *option = findOption(name);
        if (!option || name == QLatin1String("connect")) {
            m_warnings.append(where + QStringLiteral(": unknown key (ignored)"));
            continue;
        }
        const QVariant raw = file.value(key);
        const QString value = raw.typeId() == QMetaType::QStringList
                                  ? raw.toStringList().join(QLatin1Char(','))
                                  : raw.toString();
        if (!validate(*option, value, where, error))
            return false;
        set(name, value, QStringLiteral("file %1").arg(path));
    }
    return true;
}

bool Settings::load(const QStringList &arguments, const QProcessEnvironment &environment,
                    QString *error)
{
    // 1. Parse flags first (to know --config), apply them last.
    QList<QPair<QString, QString>> flags;
    QString configFile;
    bool configGiven = false;
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        QString arg = arguments.at(i);
        if (!arg.startsWith(QLatin1String("--"))) {
            *error = QStringLiteral("unexpected argument '%1'").arg(arg);
            return false;
        }
        arg = arg.mid(2);
        QString value;
        bool hasValue = false;
        if (const qsizetype eq = arg.indexOf(QLatin1Char('=')); eq >= 0) {
            value = arg.mid(eq + 1);
            arg = arg.left(eq);
            hasValue = true;
        }
        if (arg == QLatin1String("config")) {
            if (!hasValue) {
                if (++i >= arguments.size()) {
                    *error = QStringLiteral("--config needs a FILE");
                    return false;
                }
                value = arguments.at(i);
            }
            configFile = value;
            configGiven = true;
            continue;
        }
        if (arg == QLatin1String("help") || arg == QLatin1String("version") ||
            arg == QLatin1String("print-config")) {
            flags.append({arg, QStringLiteral("true")});
            continue;
        }
        const Option *option = findOption(arg);
        if (!option) {
            *error = QStringLiteral("unknown option '--%1' (see holdfast --help)").arg(arg);
            return false;
        }
        if (option->type == Type::Flag) {
            flags.append({arg, hasValue ? value : QStringLiteral("true")});
            continue;
        }
        if (!hasValue) {
            if (++i >= arguments.size()) {
                *error = QStringLiteral("--%1 needs a value (%2)").arg(arg, option->valueName);
                return false;
            }
            value = arguments.at(i);
        }
        if (option->type == Type::List) {
            // Repeated, a list option gathers its values; the flags still replace the list the
            // environment or the file gave.
            auto given = std::find_if(flags.begin(), flags.end(),
                                      [&](const auto &f) { return f.first == arg; });
            if (given != flags.end()) {
                given->second += QLatin1Char(',') + value;
                continue;
            }
        }
        flags.append({arg, value});
    }

    // 2. Settings file.
    if (!configGiven && environment.contains(QStringLiteral("HOLDFAST_CONFIG"))) {
        configFile = environment.value(QStringLiteral("HOLDFAST_CONFIG"));
        configGiven = true;
    }
    m_configFile = configGiven ? configFile : defaultConfigFile();
    if (!readFile(m_configFile, configGiven, error))
        return false;

    // 3. Environment.
    for (const Option &option : options()) {
        const QString name = envName(option.name);
        if (!environment.contains(name))
            continue;
        const QString value = environment.value(name);
        if (!validate(option, value, QStringLiteral("environment %1").arg(name), error))
            return false;
        set(option.name, value, QStringLiteral("environment %1").arg(name));
    }

    // 4. Flags.
    for (const auto &[name, value] : std::as_const(flags)) {
        if (const Option *option = findOption(name)) {
            if (!validate(*option, value, QStringLiteral("--%1").arg(name), error))
                return false;
        }
        set(name, value, QStringLiteral("flag --%1").arg(name));
    }
    return true;
}

void Settings::set(const QString &name, const QString &value, const QString &source)
{
    m_values.insert(name, value);
    m_sources.insert(name, source);
}

bool Settings::setProviderValue(const QString &provider, const QString &key, const QString &value)
{
    for (ProviderEntry &entry : m_providers) {
        if (entry.name == provider) {
            entry.values.insert(key, value);
            return true;
        }
    }
    return false;
}

QString Settings::value(const QString &name) const
{
    if (m_values.contains(name))
        return m_values.value(name);
    if (name == QLatin1String("store"))
        return defaultStore();
    if (const Option *option = findOption(name))
        return option->defaultValue;
    return {};
}

bool Settings::flag(const QString &name) const
{
    const QString v = value(name).trimmed().toLower();
    return v == QLatin1String("true") || v == QLatin1String("1") || v == QLatin1String("yes") ||
           v == QLatin1String("on");
}

QStringList Settings::list(const QString &name) const
{
    return splitList(value(name));
}

QString Settings::source(const QString &name) const
{
    return m_sources.value(name, QStringLiteral("default"));
}

namespace {
// A value as --print-config shows it: secrets masked, the password of a URL masked, and control
// characters escaped, so that a value (a quoted one can hold line breaks) stays on its own line
// and cannot pass for other settings or carry a secret out unmasked.
QString shownValue(bool secret, const QString &value)
{
    if (secret && !value.isEmpty())
        return QStringLiteral("********");
    QString v = value;
    // redis://user:PASSWORD@host, http://user:PASSWORD@host: keep all but the password, also
    // in a URL that QUrl would refuse.
    if (v.contains(QLatin1String("://")))
        v = redactPassword(v);
    QString out;
    out.reserve(v.size());
    for (const QChar c : std::as_const(v)) {
        if (c == u'\\')
            out += QStringLiteral("\\\\");
        else if (c == u'\n')
            out += QStringLiteral("\\n");
        else if (c == u'\r')
            out += QStringLiteral("\\r");
        else if (c == u'\t')
            out += QStringLiteral("\\t");
        else if (c.unicode() < 0x20 || c.unicode() == 0x7f ||
                 c.category() == QChar::Separator_Line ||
                 c.category() == QChar::Separator_Paragraph)
            out += QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0'));
        else
            out += c;
    }
    return out;
}
} // namespace

QString Settings::printConfig() const
{
    QString out;
    QTextStream s(&out);
    s << "# settings file: " << shownValue(false, m_configFile)
      << (QFileInfo::exists(m_configFile) ? "" : " (not present)") << "\n";
    for (const Option &o : options()) {
        const QString v =
            o.type == Type::List ? list(o.name).join(QStringLiteral(", ")) : value(o.name);
        s << o.name << " = " << shownValue(isSecret(o.name), v) << "    # "
          << shownValue(false, source(o.name)) << "\n";
    }
    for (const ProviderEntry &p : m_providers) {
        s << "[provider." << shownValue(false, p.name) << "]";
        for (auto it = p.values.cbegin(); it != p.values.cend(); ++it) {
            s << " " << shownValue(false, it.key()) << "="
              << shownValue(it.key() == QLatin1String("api-key"), it.value());
        }
        s << "    # file " << shownValue(false, m_configFile) << "\n";
    }
    return out;
}

QString Settings::helpText()
{
    QString out;
    QTextStream s(&out);
    s << "Usage: holdfast [OPTION]...\n"
         "A chat client for large language models that never loses an answer.\n\n"
         "  holdfast                               open the window (in-process service)\n"
         "  holdfast --headless --listen ADDR:PORT serve the HTTP API without a window\n"
         "  holdfast --connect http://HOST:PORT    open the window on a remote Holdfast\n\n"
         "Options:\n";
    for (const Option &o : options()) {
        QString left = QStringLiteral("  --") + o.name;
        if (!o.valueName.isEmpty())
            left += QLatin1Char(' ') + o.valueName;
        s << left.leftJustified(32) << ' ' << o.description;
        if (!o.defaultValue.isEmpty() && o.type != Type::Flag)
            s << " [" << o.defaultValue << "]";
        s << "\n";
    }
    s << QStringLiteral("  --config FILE").leftJustified(32) << " Settings file ["
      << defaultConfigFile() << "]\n";
    s << QStringLiteral("  --print-config").leftJustified(32)
      << " Show the effective settings and where each came from.\n";
    s << QStringLiteral("  --version").leftJustified(32) << " Show the version and exit.\n";
    s << QStringLiteral("  --help").leftJustified(32) << " Show this help and exit.\n\n";
    s << "Every option can also be set in the settings file (key = option name) or in the\n"
         "environment as HOLDFAST_<OPTION> (HOLDFAST_DEMO_DELAY_MS=0); flags win over the\n"
         "environment, which wins over the file. An option marked repeatable takes a\n"
         "comma-separated list in the file and the environment. The default store is\n"
      << defaultStore() << ".\n\n"
      << "Exit status: 0 ok, 1 runtime error, 2 bad usage.\n";
    return out;
}

} // namespace holdfast
