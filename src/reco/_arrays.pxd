# cython: language_level=3
"""C++ vectors a kernel filled, copied into new numpy arrays (shared by the kernels)."""

from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy
from libcpp.vector cimport vector


cdef inline object int32_array(vector[int32_t]& values):
    import numpy

    out = numpy.empty(values.size(), numpy.int32)
    cdef int32_t[::1] view = out
    if values.size():
        memcpy(&view[0], values.data(), values.size() * sizeof(int32_t))
    return out


cdef inline object int64_array(vector[int64_t]& values):
    import numpy

    out = numpy.empty(values.size(), numpy.int64)
    cdef int64_t[::1] view = out
    if values.size():
        memcpy(&view[0], values.data(), values.size() * sizeof(int64_t))
    return out
