#pragma once

#include "core/types.h"

#include <QCoroTask>
#include <QHash>
#include <QObject>
#include <QString>

class QTimer;

namespace holdfast {

// What the user has written but not sent, per chat ("" is the new chat not created yet), with the
// files already uploaded for it (their metadata), kept in a small JSON file so that drafts
// survive a restart. A chat's entry is its text, or {"text", "attachments"} when it has files. The
// file is read and written on a worker thread (the window never waits for the disk); writes are
// debounced and never overlap, so the newest drafts are the ones that land.
class DraftStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DraftStore)
public:
    // `path` empty: drafts.json in the application's data folder.
    explicit DraftStore(const QString &path = {}, QObject *parent = nullptr);
    ~DraftStore() override;

    QString path() const { return m_path; }
    QString draft(const QString &sid) const { return m_drafts.value(sid); }
    // "" removes the draft.
    void setDraft(const QString &sid, const QString &text);
    QList<Attachment> attachments(const QString &sid) const { return m_files.value(sid); }
    void setAttachments(const QString &sid, const QList<Attachment> &files);
    bool isLoaded() const { return m_loaded; }

    // Reads the file (once); drafts set before it finished win over what it held.
    QCoro::Task<> load();
    // Writes now what is pending (the window closes); finishes when it is on disk.
    QCoro::Task<> flush();

    static constexpr int kDebounceMs = 400;

Q_SIGNALS:
    void loaded();
    void written(bool ok);

private:
    QCoro::Task<> write();
    void changed();

    QString m_path;
    QHash<QString, QString> m_drafts;
    QHash<QString, QList<Attachment>> m_files;
    QTimer *m_debounce;
    bool m_loaded = false;
    bool m_loading = false;
    bool m_dirty = false;
    bool m_writing = false;
};

} // namespace holdfast
