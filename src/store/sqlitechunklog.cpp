// Packing and unpacking a batch of the chunk log (sqlitechunklog.h tells the format). Written
// here rather than with QDataStream: a fixed 8-byte header per record, no allocation per chunk
// when packing, and records read in place from SQLite's buffer.
#include "store/sqlitechunklog.h"

#include "core/json.h"
#include "core/logging.h"

#include <QJsonDocument>
#include <QStringEncoder>
#include <QtEndian>

#include <cstring>

namespace holdfast::sqlite {

namespace {

constexpr qsizetype kHeader = 8;

void appendRecord(QByteArray &out, QByteArrayView text, QByteArrayView tool)
{
    const qsizetype at = out.size();
    out.resize(at + kHeader + text.size() + tool.size());
    char *p = out.data() + at;
    qToLittleEndian(quint32(text.size()), p);
    qToLittleEndian(quint32(tool.size()), p + 4);
    if (!text.isEmpty())
        std::memcpy(p + kHeader, text.data(), size_t(text.size()));
    if (!tool.isEmpty())
        std::memcpy(p + kHeader + text.size(), tool.data(), size_t(tool.size()));
}

} // namespace

QByteArray packChunks(const QList<Chunk> &chunks)
{
    qsizetype bound = 0;
    for (const Chunk &chunk : chunks)
        bound += kHeader + chunk.text.size() * 3;
    QByteArray out;
    out.reserve(bound);
    QStringEncoder encoder(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
    for (const Chunk &chunk : chunks) {
        // The text is encoded straight into the batch: no buffer per chunk.
        const qsizetype at = out.size();
        out.resize(at + kHeader + chunk.text.size() * 3);
        char *text = out.data() + at + kHeader;
        const qsizetype textBytes = encoder.appendToBuffer(text, chunk.text) - text;
        out.resize(at + kHeader + textBytes);
        qToLittleEndian(quint32(textBytes), out.data() + at);
        qToLittleEndian(quint32(0), out.data() + at + 4);
        if (chunk.isToolStep()) {
            const QByteArray tool =
                QJsonDocument(json::storedToolStep(chunk)).toJson(QJsonDocument::Compact);
            qToLittleEndian(quint32(tool.size()), out.data() + at + 4);
            out.append(tool);
        }
    }
    return out;
}

bool unpackChunks(QByteArrayView batch, int firstSeq, int from, qsizetype limit, QList<Chunk> &out)
{
    qsizetype at = 0;
    for (int seq = firstSeq; at < batch.size() && out.size() < limit; ++seq) {
        if (batch.size() - at < kHeader)
            break;
        const auto textBytes = qsizetype(qFromLittleEndian<quint32>(batch.data() + at));
        const auto toolBytes = qsizetype(qFromLittleEndian<quint32>(batch.data() + at + 4));
        if (textBytes > batch.size() - at - kHeader ||
            toolBytes > batch.size() - at - kHeader - textBytes)
            break;
        const char *text = batch.data() + at + kHeader;
        at += kHeader + textBytes + toolBytes;
        if (seq < from)
            continue;
        Chunk chunk(seq, QString::fromUtf8(text, textBytes));
        if (toolBytes > 0) {
            const QJsonObject step =
                QJsonDocument::fromJson(QByteArray(text + textBytes, toolBytes)).object();
            if (!json::readStoredToolStep(step, chunk))
                qCWarning(lcStore) << "chunk" << seq << "has a damaged tool step";
        }
        out.append(std::move(chunk));
    }
    if (at == batch.size() || out.size() == limit)
        return true;
    qCWarning(lcStore) << "a stored batch of chunks from" << firstSeq << "is damaged";
    return false;
}

void chunkRecordFunction(sqlite3_context *context, int, sqlite3_value **argv)
{
    const auto view = [](sqlite3_value *v) {
        const auto *data = reinterpret_cast<const char *>(sqlite3_value_text(v));
        return data ? QByteArrayView(data, sqlite3_value_bytes(v)) : QByteArrayView();
    };
    QByteArray record;
    appendRecord(record, view(argv[0]), view(argv[1]));
    sqlite3_result_blob64(context, record.constData(), sqlite3_uint64(record.size()),
                          SQLITE_TRANSIENT);
}

} // namespace holdfast::sqlite
