#include "gui/sessionlistmodel.h"

#include <QLocale>
#include <QTextDocument>

namespace holdfast {

namespace {
bool newerFirst(const SessionMeta &a, const SessionMeta &b)
{
    return a.updatedAt != b.updatedAt ? a.updatedAt > b.updatedAt : a.id < b.id;
}
} // namespace

SessionListModel::SessionListModel(QObject *parent) : QAbstractListModel(parent) {}

int SessionListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_sessions.size());
}

QString SessionListModel::displayTitle(const SessionMeta &meta)
{
    return meta.title.trimmed().isEmpty() ? tr("New chat") : meta.title;
}

QVariant SessionListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_sessions.size())
        return {};
    const SessionMeta &meta = m_sessions.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return displayTitle(meta);
    case Qt::EditRole:
        return meta.title;
    case Qt::ToolTipRole: // escaped rich text: a tooltip that looks like HTML loads its images
        return Qt::convertFromPlainText(
            tr("%1\n%Ln messages, last change %2", nullptr, int(meta.length))
                .arg(displayTitle(meta),
                     QLocale().toString(meta.updatedAt.toLocalTime(), QLocale::ShortFormat)));
    case Qt::AccessibleTextRole: { // what a screen reader says of the item: title, when, state
        QString state;
        if (m_waiting.contains(meta.id))
            state = tr("waits for your approval");
        else if (m_active.contains(meta.id) || meta.activeTurn > 0)
            state = tr("answering");
        const QString when = QLocale().toString(meta.updatedAt.toLocalTime(), QLocale::ShortFormat);
        return state.isEmpty() ? tr("%1, %2").arg(displayTitle(meta), when)
                               : tr("%1, %2, %3").arg(displayTitle(meta), when, state);
    }
    case Qt::AccessibleDescriptionRole:
        return meta.length == 1 ? tr("1 message") : tr("%1 messages").arg(meta.length);
    case IdRole:
        return meta.id;
    case UpdatedRole:
        return meta.updatedAt;
    case LengthRole:
        return meta.length;
    case ActiveRole:
        return m_active.contains(meta.id) || meta.activeTurn > 0;
    case WaitingRole:
        return m_waiting.contains(meta.id);
    default:
        return {};
    }
}

bool SessionListModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!index.isValid() || role != Qt::EditRole)
        return false;
    SessionMeta &meta = m_sessions[index.row()];
    const QString title = value.toString().trimmed();
    if (title == meta.title)
        return false;
    meta.title = title; // shown at once; the service's answer confirms it
    Q_EMIT dataChanged(index, index);
    Q_EMIT renameRequested(meta.id, title);
    return true;
}

Qt::ItemFlags SessionListModel::flags(const QModelIndex &index) const
{
    return QAbstractListModel::flags(index) | Qt::ItemIsEditable;
}

void SessionListModel::setSessions(const QList<SessionMeta> &sessions, qint64 total)
{
    beginResetModel();
    m_sessions = sessions;
    std::stable_sort(m_sessions.begin(), m_sessions.end(), newerFirst);
    m_total = std::max<qint64>(total, m_sessions.size());
    endResetModel();
}

void SessionListModel::appendSessions(const QList<SessionMeta> &sessions, qint64 total)
{
    QList<SessionMeta> fresh;
    for (const SessionMeta &meta : sessions) {
        if (rowOf(meta.id) < 0) // a page may overlap the last one when chats moved meanwhile
            fresh << meta;
    }
    m_total = total;
    if (fresh.isEmpty())
        return;
    beginInsertRows({}, int(m_sessions.size()), int(m_sessions.size() + fresh.size() - 1));
    m_sessions += fresh;
    endInsertRows();
}

bool SessionListModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && !m_fetching && m_sessions.size() < m_total;
}

void SessionListModel::fetchMore(const QModelIndex &parent)
{
    if (canFetchMore(parent))
        Q_EMIT moreWanted();
}

int SessionListModel::rowOf(const QString &sid) const
{
    for (int i = 0; i < m_sessions.size(); ++i) {
        if (m_sessions.at(i).id == sid)
            return i;
    }
    return -1;
}

int SessionListModel::sortedRow(const SessionMeta &meta) const
{
    const auto it = std::lower_bound(m_sessions.cbegin(), m_sessions.cend(), meta, newerFirst);
    return int(it - m_sessions.cbegin());
}

void SessionListModel::upsert(const SessionMeta &meta, bool insertIfMissing)
{
    const int row = rowOf(meta.id);
    if (row < 0) {
        if (!insertIfMissing)
            return;
        const int at = sortedRow(meta);
        beginInsertRows({}, at, at);
        m_sessions.insert(at, meta);
        endInsertRows();
        return;
    }
    m_sessions[row] = meta;
    // Move it where its new time puts it, if that is elsewhere.
    SessionMeta moved = m_sessions.takeAt(row);
    const int to = sortedRow(moved);
    m_sessions.insert(row, moved);
    if (to != row && beginMoveRows({}, row, row, {}, to > row ? to + 1 : to)) {
        m_sessions.move(row, to);
        endMoveRows();
    }
    const int now = rowOf(meta.id);
    Q_EMIT dataChanged(index(now), index(now));
}

void SessionListModel::remove(const QString &sid)
{
    const int row = rowOf(sid);
    m_active.remove(sid);
    m_waiting.remove(sid);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_sessions.removeAt(row);
    endRemoveRows();
}

void SessionListModel::setWaiting(const QString &sid, bool waiting)
{
    if (waiting == m_waiting.contains(sid))
        return;
    if (waiting)
        m_waiting.insert(sid);
    else
        m_waiting.remove(sid);
    if (const int row = rowOf(sid); row >= 0)
        Q_EMIT dataChanged(index(row), index(row));
}

void SessionListModel::setActive(const QString &sid, bool active)
{
    if (active) {
        m_active.insert(sid);
    } else {
        m_active.remove(sid);
        m_waiting.remove(sid);
    }
    const int row = rowOf(sid);
    if (row >= 0) {
        if (!active)
            m_sessions[row].activeTurn = 0;
        Q_EMIT dataChanged(index(row), index(row));
    }
}

} // namespace holdfast
