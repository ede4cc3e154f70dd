#pragma once

#include "core/error.h"
#include "core/types.h"

#include <QCoroTask>
#include <QPointer>
#include <QWidget>

class QLineEdit;
class QListView;
class QTimer;
class QToolButton;

namespace holdfast {

class LiveTurns;
class SessionClient;
class SessionListModel;

// Every session, newest change first, with a search field that asks the service (the API's
// `q`: titles and message text). The list comes in pages: the next one when the reader scrolls
// to the end of what is loaded. Rows pulse while their answer generates.
class SessionSidebar final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionSidebar)
public:
    explicit SessionSidebar(QWidget *parent = nullptr);

    void setClient(SessionClient *client, LiveTurns *live);
    QString currentSession() const;
    void selectSession(const QString &sid);
    QLineEdit *searchField() const { return m_search; }
    QListView *list() const { return m_list; }
    SessionListModel *model() const { return m_model; }

    static constexpr int kPageSize = 100;

public Q_SLOTS:
    void reload();
    void renameCurrent();

Q_SIGNALS:
    void sessionActivated(const QString &sid);
    void newChatRequested();
    void deleteRequested(const QString &sid);
    void loaded();
    void errorOccurred(const QString &message);

private:
    QCoro::Task<> fetch();
    QCoro::Task<> fetchMore();
    bool pageArrived(const Result<SessionPage> &page);
    void adoptRunning(const QList<SessionMeta> &sessions);
    QCoro::Task<> rename(QString sid, QString title);
    void onChanged(const SessionMeta &meta);

    QPointer<SessionClient> m_client;
    QPointer<LiveTurns> m_live;
    QLineEdit *m_search;
    QToolButton *m_new;
    QListView *m_list;
    SessionListModel *m_model;
    QTimer *m_debounce;
    QTimer *m_pulse;
    quint64 m_fetches = 0;
    QString m_selectAfterLoad;
};

} // namespace holdfast
