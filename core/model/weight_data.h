// weight_data.h - the values of one weight or bias tensor, fp32: owned (shared between copies), or
// a view into a mapped safetensors file (zero copy). Copying a WeightData copies a reference, not
// the values: a Model copied for compression or for other preprocessing costs no memory until a
// matrix is changed. Writing through a non-const accessor first gives this WeightData its own
// values (copy-on-write: a view is copied out, shared values are copied when another WeightData
// still refers to them), so a loaded model is never modified through a compressed copy.
//
// A deferred WeightData (deferred_bf16 / deferred_f16) stands for a 16-bit tensor in a mapped
// file: its fp32 values are made on first read and shared by every copy, and release_file_pages
// drops them again (with the file's pages), so compression can quantize a model matrix by matrix
// without ever holding the whole model in fp32. Dropping invalidates pointers other copies took
// from data(): deferred weights are for a model read by one thread at a time (the CLI's
// compressed-only evaluation), not for a model the window shares between threads.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

namespace ss {

class ByteSource; // formats/byte_source.h
struct DeferredValues; // weight_data.cpp
enum class DeferredType : uint8_t { BF16, F16 };

class WeightData {
public:
    WeightData() = default;
    WeightData(std::vector<float> values) : own_(std::make_shared<std::vector<float>>(std::move(values))) {}
    WeightData(std::initializer_list<float> values) : own_(std::make_shared<std::vector<float>>(values)) {}

    // Views n floats at p; `keep_alive` owns the memory (e.g. the file mapping).
    static WeightData view(std::shared_ptr<const void> keep_alive, const float* p, size_t n) {
        WeightData w;
        w.keep_ = std::move(keep_alive);
        w.view_ = p;
        w.view_size_ = n;
        return w;
    }

    // A view of n floats at p inside `source` (a mapped file): its pages can be handed back.
    static WeightData file_view(std::shared_ptr<const ByteSource> source, const float* p, size_t n);

    // n 16-bit values at p inside `source`, converted to fp32 when first read (see above).
    static WeightData deferred(std::shared_ptr<const ByteSource> source, const uint16_t* p, size_t n, DeferredType type);

    // For a deferred BF16 tensor: its values as stored (bf16 bits, n of them) - read without
    // making the fp32 copy. nullptr for every other WeightData.
    const uint16_t* bf16_data() const;
    bool is_deferred() const { return lazy_ != nullptr; }
    // Whether reading data() now costs a conversion (deferred and not yet, or no longer, made).
    bool deferred_pending() const;

    // For a view into a mapped file: gives the file's pages under it back to the kernel (they are
    // read again if touched), so values read once - e.g. to quantize them - do not stay in the
    // process's resident memory. A deferred tensor also drops its fp32 copy. Does nothing for
    // other values.
    void release_file_pages() const;

    size_t size() const { return view_ ? view_size_ : own_ ? own_->size() : lazy_ ? lazy_size() : 0; }
    bool empty() const { return size() == 0; }
    bool is_view() const { return view_ != nullptr; }

    const float* data() const { return view_ ? view_ : own_ ? own_->data() : lazy_ ? lazy_data() : nullptr; }
    const float* begin() const { return data(); }
    const float* end() const { return data() + size(); }
    float operator[](size_t i) const { return data()[i]; }

    // Mutable access gives this WeightData values of its own first.
    float* data() {
        detach();
        return own_ ? own_->data() : nullptr;
    }
    float* begin() { return data(); }
    float* end() { return data() + size(); }
    float& operator[](size_t i) { return data()[i]; }
    void resize(size_t n) {
        detach();
        if (!own_) own_ = std::make_shared<std::vector<float>>();
        own_->resize(n);
    }

    std::vector<float> to_vector() const { return {begin(), end()}; }

    friend bool operator==(const WeightData& a, const WeightData& b) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
            if (a.data()[i] != b.data()[i]) return false;
        return true;
    }

private:
    size_t lazy_size() const;
    const float* lazy_data() const; // makes the fp32 copy when there is none
    // Values of its own, copied (converted) from the file without keeping the file's pages or
    // a shared conversion resident for it (other copies read them again when they need them).
    void detach_from_file();
    void detach() {
        if (lazy_ || (view_ && source_)) {
            detach_from_file();
        } else if (view_) {
            own_ = std::make_shared<std::vector<float>>(view_, view_ + view_size_);
            view_ = nullptr;
            view_size_ = 0;
            keep_.reset();
        } else if (own_ && own_.use_count() > 1) {
            own_ = std::make_shared<std::vector<float>>(*own_);
        }
        source_.reset();
    }

    std::shared_ptr<std::vector<float>> own_;
    std::shared_ptr<const void> keep_;
    const float* view_ = nullptr;
    size_t view_size_ = 0;
    std::shared_ptr<const ByteSource> source_; // set for file views
    std::shared_ptr<DeferredValues> lazy_;      // set for deferred tensors
};

} // namespace ss
