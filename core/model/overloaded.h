// overloaded.h - one lambda per alternative for std::visit.
//
// Per-kind operations on a Layer are written as
//     std::visit(Overloaded{[&](const LinearWeights& l) {...}, [&](const MoeLayer& m) {...}, ...}, layer);
// with no catch-all `auto` lambda, so a layer kind someone forgets is a compile error rather than
// a layer that is silently skipped.
#pragma once

namespace ss {

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// For passes that exist for one model family only: names the pass and the layer kind it cannot take.
[[noreturn]] void refuse_layer_kind(const char* pass, const char* kind);

} // namespace ss
