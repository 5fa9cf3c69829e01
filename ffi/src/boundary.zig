//! The helpers every export uses at the C boundary (exports.zig, exports_model.zig):
//! a Zig error becomes the object's last error and an axrResult; a handle of any kind
//! leads to its context.

const object = @import("object.zig");
const errors = @import("errors.zig");
const abi = @import("abi.zig");
const context = @import("context.zig");

const Result = abi.Result;
const Diag = errors.Diag;
const Context = context.Context;

/// Records `e` (with the diag's message) as the last error of `h`; returns its code.
pub fn fail(h: *object.Header, e: anyerror, diag: *const Diag) Result {
    const r = errors.toResult(e);
    h.setError(r, diag.messageOr(e));
    return r;
}

/// The context of a handle of any kind (null if not a live handle).
pub fn anyContext(ptr: ?*const anyopaque) ?*Context {
    const h = object.lookup(ptr) orelse return null;
    return Context.of(h);
}
