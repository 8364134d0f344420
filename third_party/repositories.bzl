"""External repositories durable needs, all offline.

A workspace that depends on durable calls `durable_dependencies()` once from its
WORKSPACE file, after declaring durable itself:

    local_repository(name = "durable", path = "/path/to/durable")
    load("@durable//third_party:repositories.bzl", "durable_dependencies")
    durable_dependencies()

Nothing here downloads. System libraries come from Debian `-dev` packages (see
tools/setup.sh) and are wrapped as `cc_library` targets whose link options come
from pkg-config where the package ships a .pc file. `rules_cc`, `rules_java` and
`remote_coverage_tools`, which Bazel 4's own tools reference, are satisfied by
small stand-ins kept in third_party/shims/.
"""

# Anchors a path inside this repository whether durable is the main workspace or
# an external one.
_ANCHOR = Label("//third_party:repositories.bzl")

# Files of each stand-in under third_party/shims/ (Bazel 4's repository_ctx
# cannot tell files from directories, so they are listed).
_SHIM_FILES = {
    "rules_cc": ["BUILD.shim", "cc/BUILD.shim", "cc/defs.bzl"],
    "rules_java": ["BUILD.shim", "java/BUILD.shim", "java/defs.bzl"],
    "remote_coverage_tools": ["BUILD.shim", "unsupported.sh"],
}

def _shim_repository_impl(rctx):
    shim = rctx.path(rctx.attr._anchor).dirname.get_child("shims").get_child(rctx.attr.shim)
    for relative in _SHIM_FILES[rctx.attr.shim]:
        source = shim
        for part in relative.split("/"):
            source = source.get_child(part)
        rctx.symlink(source, relative.replace("BUILD.shim", "BUILD.bazel"))
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

_shim_repository = repository_rule(
    implementation = _shim_repository_impl,
    attrs = {
        "shim": attr.string(mandatory = True),
        "_anchor": attr.label(default = _ANCHOR),
    },
    local = True,
)

def _system_library_impl(rctx):
    # Repository rules run only when a target being built needs the repository,
    # so a missing package fails just the builds that use it: a workspace
    # without the test packages still builds everything else.
    for header in rctx.attr.required_headers:
        if not rctx.path(header).exists:
            fail("durable needs %s, which is missing: install the Debian package %s " %
                 (header, rctx.attr.debian_package) + "(durable's %s installs it)" % rctx.attr.setup_command)
    linkopts = list(rctx.attr.linkopts)
    if rctx.attr.pkg_config_modules:
        result = rctx.execute(["pkg-config", "--libs"] + rctx.attr.pkg_config_modules)
        if result.return_code != 0:
            fail("pkg-config could not resolve %s: %s" %
                 (rctx.attr.pkg_config_modules, result.stderr))
        linkopts = result.stdout.strip().split(" ") + linkopts
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)
    if rctx.name == "system_protobuf":
        rctx.file("protoc.sh", "#!/bin/sh\nexec /usr/bin/protoc \"$@\"\n", executable = True)
    # Labels of durable's own packages, spelled so that they resolve from this
    # repository whether durable is the main workspace ("@//...") or an
    # external one ("@durable//...").
    durable = "@%s//" % rctx.attr._anchor.workspace_name
    rctx.file("BUILD.bazel", rctx.attr.build_file_content.replace(
        "{LINKOPTS}",
        repr([opt for opt in linkopts if opt]),
    ).replace("@durable//", durable))

_system_library = repository_rule(
    implementation = _system_library_impl,
    attrs = {
        "_anchor": attr.label(default = _ANCHOR),
        "build_file_content": attr.string(mandatory = True),
        "debian_package": attr.string(mandatory = True),
        "linkopts": attr.string_list(),
        "pkg_config_modules": attr.string_list(),
        "required_headers": attr.string_list(),
        # The command that installs the package, named in the error above.
        "setup_command": attr.string(default = "tools/setup.sh"),
    },
    local = True,
)

_SIMPLE_LIBRARY = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "{name}",
    linkopts = {{LINKOPTS}},
)
"""

def _simple(name, target, **kwargs):
    _system_library(
        name = name,
        build_file_content = _SIMPLE_LIBRARY.format(name = target).replace("{{", "{").replace("}}", "}"),
        **kwargs
    )

# Under `--config=tsan` (.bazelrc: --define=durable_tsan=on, matched by
# //third_party:tsan) every binary that links abseil also links
# //third_party/tsan_absl, which makes ThreadSanitizer see abseil's
# synchronization: Debian's abseil is not built with TSan.
_ABSEIL_BUILD = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "abseil",
    linkopts = {LINKOPTS},
    deps = select({
        "@durable//third_party:tsan": ["@durable//third_party/tsan_absl"],
        "//conditions:default": [],
    }),
)
"""

def durable_dependencies():
    """Declares every repository durable's targets use. Call once from WORKSPACE."""
    for shim in ["rules_cc", "rules_java", "remote_coverage_tools"]:
        if shim not in native.existing_rules():
            _shim_repository(name = shim, shim = shim)

    _system_library(
        name = "system_abseil",
        build_file_content = _ABSEIL_BUILD,
        debian_package = "libabsl-dev",
        required_headers = ["/usr/include/absl/status/statusor.h"],
        pkg_config_modules = [
            "absl_flat_hash_map",
            "absl_random_random",
            "absl_status",
            "absl_statusor",
            "absl_str_format",
            "absl_strings",
            "absl_synchronization",
            "absl_time",
        ],
    )
    _system_library(
        name = "system_protobuf",
        debian_package = "libprotobuf-dev protobuf-compiler",
        required_headers = ["/usr/include/google/protobuf/message.h", "/usr/bin/protoc"],
        pkg_config_modules = ["protobuf"],
        build_file_content = """
package(default_visibility = ["//visibility:public"])

# Under durable's --config=tsan, code compiled against protobuf reads
# map_field.h as the (uninstrumented) library was built: see
# //third_party/tsan_protobuf.
cc_library(
    name = "protobuf",
    linkopts = {LINKOPTS},
    deps = select({
        "@durable//third_party:tsan": ["@durable//third_party/tsan_protobuf:map_field_abi"],
        "//conditions:default": [],
    }),
)

sh_binary(
    name = "protoc",
    srcs = ["protoc.sh"],
)
""",
    )
    _simple(
        name = "system_sqlite3",
        target = "sqlite3",
        debian_package = "libsqlite3-dev",
        required_headers = ["/usr/include/sqlite3.h"],
        pkg_config_modules = ["sqlite3"],
    )
    _system_library(
        name = "system_googletest",
        debian_package = "libgtest-dev libgmock-dev",
        required_headers = ["/usr/include/gtest/gtest.h", "/usr/include/gmock/gmock.h"],
        linkopts = ["-lgmock", "-lgtest", "-pthread"],
        build_file_content = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "gtest",
    linkopts = {LINKOPTS},
)

cc_library(
    name = "gtest_main",
    linkopts = ["-lgtest_main"],
    deps = [":gtest"],
)
""",
    )
    _system_library(
        name = "system_benchmark",
        debian_package = "libbenchmark-dev",
        required_headers = ["/usr/include/benchmark/benchmark.h"],
        linkopts = ["-lbenchmark", "-pthread"],
        build_file_content = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "benchmark",
    linkopts = {LINKOPTS},
)

cc_library(
    name = "benchmark_main",
    linkopts = ["-lbenchmark_main"],
    deps = [":benchmark"],
)
""",
    )
    _simple(
        name = "system_nlohmann_json",
        target = "nlohmann_json",
        debian_package = "nlohmann-json3-dev",
        required_headers = ["/usr/include/nlohmann/json.hpp"],
    )

    # Client libraries of the Redis, MySQL/MariaDB and PostgreSQL backends.
    # Include them by their directory under /usr/include, which needs no
    # include path: <hiredis/hiredis.h>, <mariadb/mysql.h>,
    # <postgresql/libpq-fe.h>. hiredis is part of every build (the Redis
    # store is in //backends:all_stores), installed by `tools/setup.sh`; the
    # others by `tools/setup.sh --test` until their stores exist.
    _simple(
        name = "system_hiredis",
        target = "hiredis",
        debian_package = "libhiredis-dev",
        required_headers = ["/usr/include/hiredis/hiredis.h"],
        pkg_config_modules = ["hiredis"],
        setup_command = "tools/setup.sh",
    )
    _simple(
        name = "system_mariadb",
        target = "mariadb",
        debian_package = "libmariadb-dev",
        required_headers = ["/usr/include/mariadb/mysql.h"],
        pkg_config_modules = ["libmariadb"],
        setup_command = "tools/setup.sh --test",
    )
    _simple(
        name = "system_libpq",
        target = "libpq",
        debian_package = "libpq-dev",
        required_headers = ["/usr/include/postgresql/libpq-fe.h"],
        pkg_config_modules = ["libpq"],
        setup_command = "tools/setup.sh --test",
    )

# --- Python (bindings/python) -------------------------------------------------
#
# Debian's /usr/bin/python3 with its headers (python3-dev), pybind11-dev,
# python3-protobuf and python3-pytest. The repository also holds the
# py_runtime that Bazel 4's native py_* rules use, registered as a toolchain by
# durable_python_dependencies() below (called from WORKSPACE).
_PYTHON_BUILD = """
load("@bazel_tools//tools/python:toolchain.bzl", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

# Headers of CPython and pybind11 for extension modules, symlinked into this
# repository (python/ -> the interpreter's include directory, pybind11/pybind11
# -> /usr/include/pybind11) because Bazel forbids absolute `includes`.
# Extensions do not link libpython: the interpreter that loads them provides
# its symbols.
cc_library(
    name = "python_headers",
    hdrs = glob(["python/**/*.h", "pybind11/**/*.h"]),
    includes = ["python", "pybind11"],
)

py_runtime(
    name = "python3_runtime",
    interpreter_path = "{PYTHON}",
    python_version = "PY3",
    stub_shebang = "#!{PYTHON}",
)

py_runtime_pair(
    name = "python_runtime_pair",
    py3_runtime = ":python3_runtime",
)

toolchain(
    name = "python_toolchain",
    toolchain = ":python_runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)
"""

def _system_python_impl(rctx):
    python = rctx.attr.interpreter
    for path in [python, "/usr/include/pybind11/pybind11.h"]:
        if not rctx.path(path).exists:
            fail("durable's Python binding needs %s: install the Debian packages " % path +
                 "python3-dev pybind11-dev python3-protobuf python3-pytest (tools/setup.sh)")
    result = rctx.execute([python, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"])
    if result.return_code != 0:
        fail("cannot ask %s for its include directory: %s" % (python, result.stderr))
    include = result.stdout.strip()
    if not rctx.path(include + "/Python.h").exists:
        fail("%s/Python.h is missing: install the Debian package python3-dev" % include)
    rctx.symlink(include, "python")
    rctx.symlink("/usr/include/pybind11", "pybind11/pybind11")
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)
    rctx.file("BUILD.bazel", _PYTHON_BUILD.replace("{PYTHON_INCLUDE}", include).replace("{PYTHON}", python))

_system_python = repository_rule(
    implementation = _system_python_impl,
    attrs = {"interpreter": attr.string(default = "/usr/bin/python3")},
    local = True,
)

def durable_python_dependencies():
    """Declares @system_python and registers its Python toolchain."""
    if "system_python" not in native.existing_rules():
        _system_python(name = "system_python")
    native.register_toolchains("@system_python//:python_toolchain")
