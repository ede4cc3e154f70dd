#include "gui/sessionsidebar.h"

#include "client/sessionclient.h"
#include "gui/icons.h"
#include "gui/liveturns.h"
#include "gui/sessionitemdelegate.h"
#include "gui/sessionlistmodel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace holdfast {

SessionSidebar::SessionSidebar(QWidget *parent)
    : QWidget(parent), m_search(new QLineEdit(this)), m_new(new QToolButton(this)),
      m_list(new QListView(this)), m_model(new SessionListModel(this)),
      m_debounce(new QTimer(this)), m_pulse(new QTimer(this))
{
    setObjectName(QStringLiteral("sidebar"));
    auto *top = new QHBoxLayout;
    top->setContentsMargins(10, 10, 10, 6);
    auto *brand = new QLabel(tr("Chats"), this);
    brand->setObjectName(QStringLiteral("sidebarTitle"));
    QFont f = brand->font();
    f.setWeight(QFont::DemiBold);
    f.setPointSizeF(f.pointSizeF() * 1.1);
    brand->setFont(f);
    top->addWidget(brand, 1);
    m_new->setIcon(icons::icon(icons::Name::NewChat));
    m_new->setToolTip(tr("New chat (Ctrl+N)"));
    m_new->setAccessibleName(tr("New chat"));
    m_new->setAccessibleDescription(tr("Starts a new chat (Ctrl+N)"));
    m_new->setAutoRaise(true);
    m_new->setIconSize(QSize(20, 20));
    top->addWidget(m_new);

    m_search->setPlaceholderText(tr("Search chats"));
    m_search->setClearButtonEnabled(true);
    QAction *searchIcon =
        m_search->addAction(icons::icon(icons::Name::Search), QLineEdit::LeadingPosition);
    // The field's icon buttons (Qt's) have no text: name them for screen readers.
    const auto iconButtons = m_search->findChildren<QToolButton *>();
    for (QToolButton *button : iconButtons)
        button->setAccessibleName(button->defaultAction() == searchIcon ? tr("Search")
                                                                        : tr("Clear search"));
    m_search->setToolTip(tr("Filters by title and message text (Ctrl+F)"));
    m_search->setAccessibleName(tr("Search chats"));
    m_search->setAccessibleDescription(tr("Filters the chat list by title and message text"));
    auto *searchRow = new QHBoxLayout;
    searchRow->setContentsMargins(10, 0, 10, 6);
    searchRow->addWidget(m_search);

    m_list->setModel(m_model);
    m_list->setItemDelegate(new SessionItemDelegate(m_list));
    m_list->setFrameShape(QFrame::NoFrame);
    m_list->setMouseTracking(true);
    m_list->setUniformItemSizes(true);
    m_list->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_list->setAccessibleName(tr("Chats"));
    m_list->setAccessibleDescription(
        tr("Your chats, newest first: Enter opens, F2 renames, Delete deletes"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(top);
    layout->addLayout(searchRow);
    layout->addWidget(m_list, 1);

    m_debounce->setSingleShot(true);
    m_debounce->setInterval(250);
    connect(m_search, &QLineEdit::textChanged, m_debounce, qOverload<>(&QTimer::start));
    connect(m_debounce, &QTimer::timeout, this, &SessionSidebar::reload);
    connect(m_new, &QToolButton::clicked, this, &SessionSidebar::newChatRequested);
    connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid())
                    Q_EMIT sessionActivated(current.data(SessionListModel::IdRole).toString());
            });
    connect(m_model, &SessionListModel::moreWanted, this, [this] { fetchMore(); });
    connect(m_model, &SessionListModel::renameRequested, this,
            [this](const QString &sid, const QString &title) { rename(sid, title); });
    // The pulse of generating rows: repaint only while something generates.
    m_pulse->setInterval(60);
    connect(m_pulse, &QTimer::timeout, m_list->viewport(), qOverload<>(&QWidget::update));
}

void SessionSidebar::setClient(SessionClient *client, LiveTurns *live)
{
    m_client = client;
    m_live = live;
    connect(client, &SessionClient::sessionChanged, this, &SessionSidebar::onChanged);
    connect(client, &SessionClient::sessionDeleted, m_model, &SessionListModel::remove);
    connect(client, &SessionClient::connectionChanged, this, [this](bool online) {
        if (online)
            reload();
    });
    connect(live, &LiveTurns::waitingChanged, this,
            [this](const QString &sid, int, bool waiting) { m_model->setWaiting(sid, waiting); });
    connect(live, &LiveTurns::activeChanged, this, [this](const QString &sid, bool active) {
        m_model->setActive(sid, active);
        if (m_model->anyActive())
            m_pulse->start();
        else
            m_pulse->stop();
    });
    reload();
}

void SessionSidebar::onChanged(const SessionMeta &meta)
{
    // While searching, a changed session may no longer match (or start to): ask again.
    if (!m_search->text().isEmpty()) {
        m_model->upsert(meta, false);
        m_debounce->start();
        return;
    }
    const QString current = currentSession();
    m_model->upsert(meta);
    if (!current.isEmpty() && current != currentSession())
        selectSession(current);
}

QString SessionSidebar::currentSession() const
{
    return m_list->currentIndex().data(SessionListModel::IdRole).toString();
}

void SessionSidebar::selectSession(const QString &sid)
{
    const int row = m_model->rowOf(sid);
    if (row < 0) {
        m_selectAfterLoad = sid;
        return;
    }
    const QModelIndex index = m_model->index(row);
    if (m_list->currentIndex() != index)
        m_list->setCurrentIndex(index);
    m_list->scrollTo(index);
}

void SessionSidebar::renameCurrent()
{
    if (m_list->currentIndex().isValid())
        m_list->edit(m_list->currentIndex());
}

void SessionSidebar::reload()
{
    fetch();
}

QCoro::Task<> SessionSidebar::fetch()
{
    if (!m_client)
        co_return;
    QPointer<SessionSidebar> self(this);
    const quint64 fetch = ++m_fetches;
    const QString current = currentSession();
    m_model->setFetching(true);
    const auto page = co_await m_client->listSessions(m_search->text().trimmed(), kPageSize, 0);
    if (!self || fetch != m_fetches)
        co_return;
    if (!pageArrived(page))
        co_return;
    const QSignalBlocker blocker(m_list->selectionModel());
    m_model->setSessions(page->sessions, page->total);
    if (m_live) {
        for (const QString &sid : m_live->activeSessions())
            m_model->setActive(sid, true);
    }
    adoptRunning(page->sessions);
    const QString wanted = m_selectAfterLoad.isEmpty() ? current : m_selectAfterLoad;
    m_selectAfterLoad.clear();
    if (const int row = m_model->rowOf(wanted); row >= 0)
        m_list->setCurrentIndex(m_model->index(row));
    Q_EMIT loaded();
}

// The next page of the listing (the same search), after the rows loaded so far.
QCoro::Task<> SessionSidebar::fetchMore()
{
    if (!m_client)
        co_return;
    QPointer<SessionSidebar> self(this);
    const quint64 fetch = m_fetches; // a new search or reload makes this page stale
    m_model->setFetching(true);
    const auto page =
        co_await m_client->listSessions(m_search->text().trimmed(), kPageSize, m_model->rowCount());
    if (!self || fetch != m_fetches)
        co_return;
    if (!pageArrived(page))
        co_return;
    m_model->appendSessions(page->sessions, page->total);
    adoptRunning(page->sessions);
    if (!m_selectAfterLoad.isEmpty()) {
        if (const int row = m_model->rowOf(m_selectAfterLoad); row >= 0) {
            m_list->setCurrentIndex(m_model->index(row));
            m_selectAfterLoad.clear();
        }
    }
}

// Ends a listing request: false, with the error said, when it failed.
bool SessionSidebar::pageArrived(const Result<SessionPage> &page)
{
    m_model->setFetching(false);
    if (page)
        return true;
    Q_EMIT errorOccurred(tr("Could not list the chats: %1").arg(page.error().message));
    return false;
}

// A listed chat whose turn is still running streams on in the sidebar.
void SessionSidebar::adoptRunning(const QList<SessionMeta> &sessions)
{
    if (!m_live)
        return;
    for (const SessionMeta &meta : sessions) {
        if (meta.activeTurn > 0)
            m_live->adopt(meta.id, meta.activeTurn);
    }
}

QCoro::Task<> SessionSidebar::rename(QString sid, QString title)
{
    if (!m_client)
        co_return;
    QPointer<SessionSidebar> self(this);
    PatchSessionParams params;
    params.title = title.isEmpty() ? QString() : title;
    const auto patched = co_await m_client->patchSession(sid, params);
    if (self && !patched)
        Q_EMIT errorOccurred(tr("Could not rename the chat: %1").arg(patched.error().message));
}

} // namespace holdfast
