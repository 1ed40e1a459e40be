// empty_state.h - a centred hint over an empty view (the runs table before the first run): what
// to do next, one line per step. It covers its parent, lets clicks through, and is shown only
// while the view has nothing to show.
#pragma once

#include <QLabel>

namespace ssui {

class EmptyState : public QLabel {
    Q_OBJECT
public:
    // parent: the widget to cover (an item view's viewport); text: rich text.
    EmptyState(QWidget* parent, const QString& text);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
};

} // namespace ssui
