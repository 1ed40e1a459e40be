// run_filter_proxy.h - the runs table's view of RunListModel: sorted, filtered by the search
// text, and without the runs the user deleted or hid (RunListModel::isShown).
#pragma once

#include <QSortFilterProxyModel>

namespace ssui {

class RunFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void refilter() { invalidateFilter(); } // after "show hidden runs" changed

protected:
    bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;
};

} // namespace ssui
