#pragma once

#include <QImage>
#include <QWidget>

class QHBoxLayout;
class QLabel;
class QScrollArea;
class QToolButton;

namespace holdfast {

// The files about to be sent, as chips above the composer: a thumbnail for a picture, the name
// and size, a spinner-like note while it uploads, and × to take it away. A file the service
// refused shows the service's message under the chips until it is dismissed.
class AttachmentBar final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AttachmentBar)
public:
    struct Chip
    {
        QString key; // what removeRequested names
        QString name;
        QString type;
        qint64 size = 0;
        QImage thumbnail; // null: the file glyph
        bool busy = false;
        QString error; // not attached: why
    };

    explicit AttachmentBar(QWidget *parent = nullptr);

    void setChips(const QList<Chip> &chips);
    const QList<Chip> &chips() const { return m_chips; }
    // Tests: the chip's × and the message shown for refused files.
    QToolButton *removeButton(int chip) const;
    QString errorText() const;

    static constexpr QSize kChipThumbnail{40, 30};

Q_SIGNALS:
    void removeRequested(const QString &key);

private:
    QWidget *makeChip(const Chip &chip);

    QList<Chip> m_chips;
    QList<QToolButton *> m_removeButtons;
    QScrollArea *m_scroll;
    QWidget *m_row;
    QHBoxLayout *m_rowLayout;
    QLabel *m_errors;
};

} // namespace holdfast
