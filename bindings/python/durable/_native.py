"""Loads the `_durable_native` extension and installs the typed-error factory."""

from durable import errors

from durable import _durable_native as native  # type: ignore[attr-defined]

native.set_error_factory(errors.error_for_status)

if native.abi_version() != native.ABI_VERSION:  # pragma: no cover - a broken install
    raise ImportError(f"durable: the extension was built for C ABI {native.ABI_VERSION} "
                      f"but the library reports {native.abi_version()}")

__all__ = ["native"]
