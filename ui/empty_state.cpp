// empty_state.cpp
#include "empty_state.h"

#include <QEvent>

namespace ssui {

EmptyState::EmptyState(QWidget* parent, const QString& text) : QLabel(text, parent) {
    setObjectName(QStringLiteral("emptyState"));
    setAlignment(Qt::AlignCenter);
    setWordWrap(true);
    setTextFormat(Qt::RichText);
    setAttribute(Qt::WA_TransparentForMouseEvents);
    setForegroundRole(QPalette::PlaceholderText);
    setContentsMargins(24, 12, 24, 12);
    parent->installEventFilter(this);
    setGeometry(parent->rect());
}

bool EmptyState::eventFilter(QObject* watched, QEvent* event) {
    if (watched == parentWidget() && event->type() == QEvent::Resize) setGeometry(parentWidget()->rect());
    return QLabel::eventFilter(watched, event);
}

} // namespace ssui
