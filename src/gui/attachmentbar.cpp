#include "gui/attachmentbar.h"

#include "gui/attachmentfiles.h"
#include "gui/icons.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QScrollArea>
#include <QScrollBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace holdfast {

namespace {
QPixmap chipPicture(const QImage &thumbnail, const QSize &size)
{
    return QPixmap::fromImage(
        thumbnail.scaled(size, Qt::KeepAspectRatioByExpanding, Qt::SmoothTransformation)
            .copy(0, 0, size.width(), size.height()));
}
} // namespace

AttachmentBar::AttachmentBar(QWidget *parent)
    : QWidget(parent), m_scroll(new QScrollArea(this)), m_row(new QWidget(m_scroll)),
      m_rowLayout(new QHBoxLayout(m_row)), m_errors(new QLabel(this))
{
    setObjectName(QStringLiteral("attachmentBar"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 2, 0, 4);
    layout->setSpacing(4);
    m_rowLayout->setContentsMargins(0, 0, 0, 0);
    m_rowLayout->setSpacing(6);
    m_rowLayout->addStretch(1);
    m_scroll->setWidget(m_row);
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_scroll->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_scroll->viewport()->setAutoFillBackground(false);
    m_row->setAutoFillBackground(false);
    layout->addWidget(m_scroll);
    m_errors->setObjectName(QStringLiteral("attachmentError"));
    m_errors->setWordWrap(true);
    m_errors->setTextFormat(Qt::PlainText); // the service's words, and file names
    m_errors->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_errors);
    m_errors->hide();
    hide();
}

QToolButton *AttachmentBar::removeButton(int chip) const
{
    return chip >= 0 && chip < m_removeButtons.size() ? m_removeButtons.at(chip) : nullptr;
}

QString AttachmentBar::errorText() const
{
    return m_errors->isVisible() ? m_errors->text() : QString();
}

void AttachmentBar::setChips(const QList<Chip> &chips)
{
    m_chips = chips;
    m_removeButtons.clear();
    while (m_rowLayout->count() > 1) {
        QLayoutItem *item = m_rowLayout->takeAt(0);
        // Later: the chip's × may be the button whose click is being handled.
        item->widget()->hide();
        item->widget()->deleteLater();
        delete item;
    }
    QStringList errors;
    for (qsizetype i = 0; i < chips.size(); ++i) {
        QWidget *made = makeChip(chips.at(i));
        m_rowLayout->insertWidget(int(i), made);
        made->show(); // now, so that the row's size below counts it
        if (!chips.at(i).error.isEmpty())
            errors << QStringLiteral("⚠  %1: %2").arg(chips.at(i).name, chips.at(i).error);
    }
    const bool dark = palette().color(QPalette::Base).lightnessF() < 0.5;
    m_errors->setStyleSheet(QStringLiteral("color: %1;")
                                .arg(dark ? QStringLiteral("#ff7b72") : QStringLiteral("#b01e1e")));
    m_errors->setText(errors.join(u'\n'));
    m_errors->setVisible(!errors.isEmpty());
    m_scroll->setFixedHeight(m_row->sizeHint().height() +
                             (m_scroll->horizontalScrollBar()->isVisible()
                                  ? m_scroll->horizontalScrollBar()->sizeHint().height()
                                  : 0));
    setVisible(!chips.isEmpty());
}

QWidget *AttachmentBar::makeChip(const Chip &chip)
{
    auto *frame = new QFrame(m_row);
    frame->setObjectName(chip.error.isEmpty() ? QStringLiteral("attachmentChip")
                                              : QStringLiteral("attachmentChipFailed"));
    frame->setToolTip(chip.name);
    auto *layout = new QHBoxLayout(frame);
    layout->setContentsMargins(4, 4, 2, 4);
    layout->setSpacing(6);
    auto *picture = new QLabel(frame);
    picture->setFixedSize(kChipThumbnail);
    picture->setAlignment(Qt::AlignCenter);
    if (!chip.thumbnail.isNull())
        picture->setPixmap(chipPicture(chip.thumbnail, kChipThumbnail));
    else
        picture->setPixmap(icons::icon(attachmentfiles::isImageType(chip.type) ? icons::Name::Image
                                                                               : icons::Name::File)
                               .pixmap(QSize(22, 22)));
    layout->addWidget(picture);
    auto *lines = new QVBoxLayout;
    lines->setSpacing(0);
    auto *title = new QLabel(frame);
    title->setTextFormat(Qt::PlainText);
    QString name = chip.name;
    if (name.size() > 28)
        name = name.left(18) + QStringLiteral("…") + name.right(8);
    title->setText(name);
    lines->addWidget(title);
    auto *detail = new QLabel(frame);
    detail->setObjectName(QStringLiteral("attachmentDetail"));
    detail->setTextFormat(Qt::PlainText);
    if (!chip.error.isEmpty())
        detail->setText(tr("not attached"));
    else if (chip.busy)
        detail->setText(tr("uploading…"));
    else
        detail->setText(attachmentfiles::formatSize(chip.size));
    QFont small = detail->font();
    small.setPointSizeF(small.pointSizeF() * 0.88);
    detail->setFont(small);
    QPalette muted = detail->palette();
    muted.setColor(QPalette::WindowText, muted.color(QPalette::PlaceholderText));
    detail->setPalette(muted);
    lines->addWidget(detail);
    // Read as one element: the file, then its state (and why it was refused).
    frame->setAccessibleName(tr("Attachment %1").arg(chip.name));
    frame->setAccessibleDescription(chip.error.isEmpty() ? detail->text()
                                                         : tr("not attached: %1").arg(chip.error));
    layout->addLayout(lines);
    auto *remove = new QToolButton(frame);
    remove->setObjectName(QStringLiteral("removeAttachment"));
    remove->setIcon(icons::icon(icons::Name::Close));
    remove->setIconSize(QSize(14, 14));
    remove->setAutoRaise(true);
    remove->setToolTip(tr("Remove %1").arg(chip.name));
    remove->setAccessibleName(tr("Remove %1").arg(chip.name));
    const QString key = chip.key;
    connect(remove, &QToolButton::clicked, this, [this, key] { Q_EMIT removeRequested(key); });
    layout->addWidget(remove, 0, Qt::AlignTop);
    m_removeButtons << remove;
    return frame;
}

} // namespace holdfast
