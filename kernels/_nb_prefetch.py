"""``prefetch(array, index)``: LLVM's prefetch hint for Numba kernels.

SGD visits rows in random order, and each row is a chain of cache misses that the CPU
cannot start early because every step depends on the previous one through ``w``. Asking
for the next rows' cache lines a couple of samples ahead overlaps those misses with the
current step (measured: about a third off a shuffled sparse epoch). It changes no result.
"""

from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint that ``arr[idx]`` will be read soon (read, high locality, data cache)."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


if config.DISABLE_JIT:  # kernels run as Python (coverage runs): the hint is a no-op
    @njit
    def prefetch(arr, idx):  # noqa: F811
        """No-op stand-in used when NUMBA_DISABLE_JIT=1."""
