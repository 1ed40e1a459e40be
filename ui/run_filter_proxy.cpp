// run_filter_proxy.cpp
#include "run_filter_proxy.h"

#include "run_list_model.h"

namespace ssui {

bool RunFilterProxy::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
    const auto* runs = qobject_cast<const RunListModel*>(sourceModel());
    if (runs && source_row < runs->rowCount() && !runs->isShown(source_row)) return false;
    return QSortFilterProxyModel::filterAcceptsRow(source_row, source_parent);
}

} // namespace ssui
