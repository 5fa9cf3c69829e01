/*
 * <axruntime/axruntime.hpp>: C++17 helpers over <axruntime/axruntime.h>, as in
 * Axelera's SDK: axr::ptr<T> owns a handle and calls axr_destroy on it, and
 * axr::to_ptr(p) wraps a raw handle.
 *
 *   auto ctx = axr::to_ptr(axr_create_context());
 *   auto model = axr_load_model(ctx.get(), "model.json");   // owned by ctx
 *   if (!model) std::cerr << axr_last_error_string(AXR_OBJECT(ctx.get()));
 *
 * Destroying a context destroys its children: hold the context in an axr::ptr and
 * the others as raw pointers, or destroy children before their context.
 */
#ifndef AXRUNTIME_AXRUNTIME_HPP
#define AXRUNTIME_AXRUNTIME_HPP

#include <memory>

#include "axruntime.h"

namespace axr {

/// Deleter of axr::ptr: axr_destroy on any handle (NULL is a no-op).
struct deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    axr_destroy(AXR_OBJECT(p));
  }
};

/// A handle owned by a std::unique_ptr that destroys it.
template <typename T>
using ptr = std::unique_ptr<T, deleter>;

/// Takes ownership of a raw handle: auto props = axr::to_ptr(axr_create_properties(ctx, "a=1"));
template <typename T>
ptr<T> to_ptr(T* p) noexcept {
  return ptr<T>(p);
}

}  // namespace axr

#endif /* AXRUNTIME_AXRUNTIME_HPP */
