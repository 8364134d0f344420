"""The descriptor pool of durable's generated ``_pb2`` modules.

Why a private pool: the extension module links the C++ classes generated from
the same .proto files, which register ``core/proto/*.proto`` in libprotobuf's
C++ generated pool. Debian's python3-protobuf uses its C++ implementation by
default, and its default Python pool sits on top of that C++ pool: adding our
files there finds the C++ descriptors and then fails with "No message class
registered for 'durable.v1.Payload'" (or, with other load orders, with
"duplicate file name"). A pool of our own shares nothing with either, so the
package works under both the C++ and the pure-Python protobuf implementation
and without forcing PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION on the user's
whole process.
"""

from google.protobuf import descriptor_pool

POOL = descriptor_pool.DescriptorPool()
