"""The kernel's state as the kernel's functions see it: one int64 array `st` of (data address, rows, columns)
per array (path.py's `arrays()` and `_pack()`), and an accessor per array that views its memory.

As a tuple of 29 arrays the state was about 260 machine arguments per call between the kernel's functions
and, for arrays Python owns, an atomic reference count on every use: most of the kernel's time. As one
array of addresses it is a handful of arguments, and these views carry no reference count (Python holds
the arrays while the kernel runs).
"""
from __future__ import annotations

from numba import carray, njit, types
from numba.extending import intrinsic


# Accessor the_X(st): array X of path.py's `arrays()`, in that order.
@intrinsic
def f64_at(typingctx, address):
    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(sig.return_type))
    return types.CPointer(types.float64)(types.int64), codegen


@intrinsic
def i64_at(typingctx, address):
    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(sig.return_type))
    return types.CPointer(types.int64)(types.int64), codegen


@njit(cache=True)
def the_F(st):
    return carray(f64_at(st[0]), (st[1],))


@njit(cache=True)
def the_I(st):
    return carray(i64_at(st[3]), (st[4],))


@njit(cache=True)
def the_SF(st):
    return carray(f64_at(st[6]), (st[7], st[8]))


@njit(cache=True)
def the_SI(st):
    return carray(i64_at(st[9]), (st[10], st[11]))


@njit(cache=True)
def the_IREQ(st):
    return carray(i64_at(st[12]), (st[13], st[14]))


@njit(cache=True)
def the_PHV(st):
    return carray(f64_at(st[15]), (st[16], st[17]))


@njit(cache=True)
def the_PHS(st):
    return carray(i64_at(st[18]), (st[19], st[20]))


@njit(cache=True)
def the_PHR(st):
    return carray(i64_at(st[21]), (st[22], st[23]))


@njit(cache=True)
def the_RF(st):
    return carray(f64_at(st[24]), (st[25], st[26]))


@njit(cache=True)
def the_RI(st):
    return carray(i64_at(st[27]), (st[28], st[29]))


@njit(cache=True)
def the_RFREE(st):
    return carray(i64_at(st[30]), (st[31],))


@njit(cache=True)
def the_PQ(st):
    return carray(i64_at(st[33]), (st[34],))


@njit(cache=True)
def the_HT(st):
    return carray(f64_at(st[36]), (st[37],))


@njit(cache=True)
def the_HI(st):
    return carray(i64_at(st[39]), (st[40], st[41]))


@njit(cache=True)
def the_BH(st):
    return carray(i64_at(st[42]), (st[43], st[44]))


@njit(cache=True)
def the_NH(st):
    return carray(i64_at(st[45]), (st[46], st[47]))


@njit(cache=True)
def the_CS(st):
    return carray(f64_at(st[48]), (st[49],))


@njit(cache=True)
def the_DL(st):
    return carray(i64_at(st[51]), (st[52], st[53]))


@njit(cache=True)
def the_RT(st):
    return carray(f64_at(st[54]), (st[55],))


@njit(cache=True)
def the_AB(st):
    return carray(f64_at(st[57]), (st[58],))


@njit(cache=True)
def the_SB(st):
    return carray(f64_at(st[60]), (st[61],))


@njit(cache=True)
def the_CNT(st):
    return carray(i64_at(st[63]), (st[64], st[65]))


@njit(cache=True)
def the_BYS(st):
    return carray(i64_at(st[66]), (st[67], st[68]))


@njit(cache=True)
def the_TOT(st):
    return carray(i64_at(st[69]), (st[70],))


@njit(cache=True)
def the_SK(st):
    return carray(i64_at(st[72]), (st[73], st[74]))


@njit(cache=True)
def the_SKF(st):
    return carray(f64_at(st[75]), (st[76], st[77]))


@njit(cache=True)
def the_SKI(st):
    return carray(i64_at(st[78]), (st[79], st[80]))


@njit(cache=True)
def the_WSP(st):
    return carray(f64_at(st[81]), (st[82], st[83]))


@njit(cache=True)
def the_EID(st):
    return carray(i64_at(st[84]), (st[85],))


@njit(cache=True)
def the_TT(st):
    return carray(f64_at(st[87]), (st[88],))


@njit(cache=True)
def the_TI(st):
    return carray(i64_at(st[90]), (st[91], st[92]))


@njit(cache=True)
def the_SCR(st):
    return carray(i64_at(st[93]), (st[94],))


@intrinsic
def _data_of(typingctx, arr):
    def codegen(context, builder, sig, args):
        return context.make_array(sig.args[0])(context, builder, args[0]).data
    return types.CPointer(arr.dtype)(arr), codegen


@njit(cache=True)
def unowned(st):
    """`st` without its reference count: passed from function to function, an array Python owns is counted
    up and down (atomically) at every call; its view is not (entry.py takes it once per call from Python)."""
    return carray(_data_of(st), st.shape)
