// weight_data.h - the values of one weight or bias tensor, fp32: owned, or a view into a mapped
// safetensors file (zero copy). Writing through a non-const accessor copies a view first
// (copy-on-write), so a loaded model is never modified through a compressed copy.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

namespace ss {

class WeightData {
public:
    WeightData() = default;
    WeightData(std::vector<float> values) : own_(std::move(values)) {}
    WeightData(std::initializer_list<float> values) : own_(values) {}

    // Views n floats at p; `keep_alive` owns the memory (e.g. the file mapping).
    static WeightData view(std::shared_ptr<const void> keep_alive, const float* p, size_t n) {
        WeightData w;
        w.keep_ = std::move(keep_alive);
        w.view_ = p;
        w.view_size_ = n;
        return w;
    }

    size_t size() const { return view_ ? view_size_ : own_.size(); }
    bool empty() const { return size() == 0; }
    bool is_view() const { return view_ != nullptr; }

    const float* data() const { return view_ ? view_ : own_.data(); }
    const float* begin() const { return data(); }
    const float* end() const { return data() + size(); }
    float operator[](size_t i) const { return data()[i]; }

    // Mutable access detaches a view into owned storage first.
    float* data() {
        detach();
        return own_.data();
    }
    float* begin() { return data(); }
    float* end() { return data() + size(); }
    float& operator[](size_t i) { return data()[i]; }
    void resize(size_t n) {
        detach();
        own_.resize(n);
    }

    std::vector<float> to_vector() const { return {begin(), end()}; }

    friend bool operator==(const WeightData& a, const WeightData& b) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
            if (a.data()[i] != b.data()[i]) return false;
        return true;
    }

private:
    void detach() {
        if (!view_) return;
        own_.assign(view_, view_ + view_size_);
        view_ = nullptr;
        view_size_ = 0;
        keep_.reset();
    }

    std::vector<float> own_;
    std::shared_ptr<const void> keep_;
    const float* view_ = nullptr;
    size_t view_size_ = 0;
};

} // namespace ss
