// weight_data.cpp
#include "model/weight_data.h"

#include "formats/byte_source.h"

namespace ss {

WeightData WeightData::file_view(std::shared_ptr<const ByteSource> source, const float* p, size_t n) {
    WeightData w = view(source, p, n);
    w.source_ = std::move(source);
    return w;
}

void WeightData::release_file_pages() const {
    if (!source_ || !view_) return;
    const size_t offset = size_t(reinterpret_cast<const uint8_t*>(view_) - source_->data());
    source_->release(offset, view_size_ * sizeof(float));
}

} // namespace ss
