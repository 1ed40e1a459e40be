// weight_data.cpp
#include "model/weight_data.h"

#include "formats/byte_source.h"
#include "formats/safetensors.h"

#include <cstring>
#include <mutex>

namespace ss {

// What copies of a deferred WeightData share: where the 16-bit values are, and their fp32 form
// while it exists.
struct DeferredValues {
    std::shared_ptr<const ByteSource> source;
    const uint16_t* p = nullptr;
    size_t n = 0;
    DeferredType type = DeferredType::BF16;
    std::mutex mutex;
    std::unique_ptr<float[]> values; // (n) fp32, made on first read

    const float* get() {
        std::lock_guard lock(mutex);
        if (!values) {
            values.reset(new float[n]);
            float* out = values.get();
            if (type == DeferredType::BF16) {
                for (size_t i = 0; i < n; ++i) {
                    const uint32_t bits = uint32_t(p[i]) << 16;
                    std::memcpy(&out[i], &bits, 4);
                }
            } else {
                for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(p[i]);
            }
        }
        return values.get();
    }
};

WeightData WeightData::deferred(std::shared_ptr<const ByteSource> source, const uint16_t* p, size_t n, DeferredType type) {
    WeightData w;
    w.lazy_ = std::make_shared<DeferredValues>();
    w.lazy_->source = std::move(source);
    w.lazy_->p = p;
    w.lazy_->n = n;
    w.lazy_->type = type;
    return w;
}

void WeightData::detach_from_file() {
    if (lazy_) {
        auto own = std::make_shared<std::vector<float>>(lazy_->n);
        {
            std::lock_guard lock(lazy_->mutex);
            if (lazy_->values) {
                std::memcpy(own->data(), lazy_->values.get(), lazy_->n * sizeof(float));
            } else if (lazy_->type == DeferredType::BF16) {
                for (size_t i = 0; i < lazy_->n; ++i) {
                    const uint32_t bits = uint32_t(lazy_->p[i]) << 16;
                    std::memcpy(&(*own)[i], &bits, 4);
                }
            } else {
                for (size_t i = 0; i < lazy_->n; ++i) (*own)[i] = f16_to_f32(lazy_->p[i]);
            }
        }
        release_file_pages();
        own_ = std::move(own);
        lazy_.reset();
    } else {
        own_ = std::make_shared<std::vector<float>>(view_, view_ + view_size_);
        release_file_pages();
        view_ = nullptr;
        view_size_ = 0;
        keep_.reset();
    }
    source_.reset();
}

size_t WeightData::lazy_size() const { return lazy_->n; }
const float* WeightData::lazy_data() const { return lazy_->get(); }

const uint16_t* WeightData::bf16_data() const { return lazy_ && lazy_->type == DeferredType::BF16 ? lazy_->p : nullptr; }

bool WeightData::deferred_pending() const {
    if (!lazy_) return false;
    std::lock_guard lock(lazy_->mutex);
    return !lazy_->values;
}

WeightData WeightData::file_view(std::shared_ptr<const ByteSource> source, const float* p, size_t n) {
    WeightData w = view(source, p, n);
    w.source_ = std::move(source);
    return w;
}

void WeightData::release_file_pages() const {
    if (lazy_) {
        std::lock_guard lock(lazy_->mutex);
        lazy_->values.reset();
        const size_t offset = size_t(reinterpret_cast<const uint8_t*>(lazy_->p) - lazy_->source->data());
        lazy_->source->release(offset, lazy_->n * sizeof(uint16_t));
        return;
    }
    if (!source_ || !view_) return;
    const size_t offset = size_t(reinterpret_cast<const uint8_t*>(view_) - source_->data());
    source_->release(offset, view_size_ * sizeof(float));
}

} // namespace ss
