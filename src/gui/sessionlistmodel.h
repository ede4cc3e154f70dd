#pragma once

#include "core/types.h"

#include <QAbstractListModel>
#include <QSet>

namespace holdfast {

// The sessions of the sidebar, newest change first. Renaming through the view asks for it
// (renameRequested); the list itself changes only when the service says so.
class SessionListModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionListModel)
public:
    // LengthRole: the messages of the active branch (what the chat shows), not of every branch.
    // WaitingRole: its answer waits for the user's approval of a tool call.
    enum Role { IdRole = Qt::UserRole + 1, UpdatedRole, LengthRole, ActiveRole, WaitingRole };

    explicit SessionListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

    bool canFetchMore(const QModelIndex &parent) const override;
    // The view reached the end of what is loaded: asks for the next page (moreWanted).
    void fetchMore(const QModelIndex &parent) override;

    // The first page of a listing; `total` counts every session that matches.
    void setSessions(const QList<SessionMeta> &sessions, qint64 total = -1);
    // A later page: the sessions not yet listed go at the end.
    void appendSessions(const QList<SessionMeta> &sessions, qint64 total);
    void setFetching(bool fetching) { m_fetching = fetching; }
    qint64 total() const { return m_total; }
    // Inserts or updates, keeping the order; `insertIfMissing` false only updates.
    void upsert(const SessionMeta &meta, bool insertIfMissing = true);
    void remove(const QString &sid);
    void setActive(const QString &sid, bool active);
    void setWaiting(const QString &sid, bool waiting);
    int rowOf(const QString &sid) const;
    const SessionMeta &at(int row) const { return m_sessions.at(row); }
    bool anyActive() const { return !m_active.isEmpty(); }

    static QString displayTitle(const SessionMeta &meta);

Q_SIGNALS:
    void renameRequested(const QString &sid, const QString &title);
    void moreWanted();

private:
    int sortedRow(const SessionMeta &meta) const;

    QList<SessionMeta> m_sessions;
    QSet<QString> m_active;
    QSet<QString> m_waiting;
    qint64 m_total = 0; // sessions of the listing, loaded or not
    bool m_fetching = false;
};

} // namespace holdfast
