"""C++ code generation for .proto files with the system protoc (offline)."""

def durable_cc_proto_library(name, srcs, visibility = None):
    """A cc_library of the C++ messages generated from `srcs`.

    Imports are written relative to the repository root
    (`import "core/proto/common.proto";`), which works both when durable is the
    main workspace and when it is an external repository.
    """
    repo = native.repository_name()
    root = "." if repo == "@" else "external/" + repo[1:]
    headers = [src.replace(".proto", ".pb.h") for src in srcs]
    sources = [src.replace(".proto", ".pb.cc") for src in srcs]
    native.genrule(
        name = name + "_generate",
        srcs = srcs,
        outs = headers + sources,
        tools = ["@system_protobuf//:protoc"],
        cmd = "$(location @system_protobuf//:protoc) --proto_path=%s --cpp_out=$(GENDIR)/%s $(SRCS)" %
              (root, root),
    )
    native.cc_library(
        name = name,
        srcs = sources,
        hdrs = headers,
        deps = ["@system_protobuf//:protobuf"],
        visibility = visibility,
    )
