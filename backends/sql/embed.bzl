"""Embeds files (a store's .sql migrations) into a C++ library."""

def embedded_files(name, srcs, namespace, function, **kwargs):
    """A cc_library `name` whose header `<name>.h` declares

        absl::Span<const durable::backends::sql::EmbeddedFile> <function>();

    in `namespace`, returning `srcs` (base name and contents) sorted by name.
    The contents are compiled in: nothing is read at run time.
    """
    header = name + ".h"
    source = name + "_embedded.cc"
    header_path = (native.package_name() + "/" + header).lstrip("/")
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = [header, source],
        tools = ["//backends/sql:embed_files"],
        cmd = ("$(location //backends/sql:embed_files) {header_path} " +
               "$(location {header}) $(location {source}) {namespace} " +
               "{function} $(SRCS)").format(
            header_path = header_path,
            header = header,
            source = source,
            namespace = namespace,
            function = function,
        ),
    )
    native.cc_library(
        name = name,
        srcs = [source],
        hdrs = [header],
        deps = [
            "//backends/sql:embedded_file",
            "@system_abseil//:abseil",
        ],
        **kwargs
    )
