// _durable_native: a thin pybind11 wrapper over durable.h, the C ABI.
//
// This module is deliberately dumb. It exposes the handles of durable.h
// (backend, client, worker) as Python objects and passes serialized
// durable.v1 messages through as `bytes`; everything a Python user sees
// (decorators, the deterministic workflow loop, payload conversion, typed
// exceptions) lives in the `durable` package on top.
//
// Contract:
//  - Every call that can block (opening a backend, waiting for a result,
//    polling, completing, heartbeating, shutting down, freeing a worker)
//    releases the GIL, so pollers in several threads and workers on several
//    backends run concurrently and Ctrl-C is handled between calls.
//  - A non-OK status becomes a Python exception built by the factory that the
//    package installs with set_error_factory(callable(code, message)), so the
//    package decides the exception classes (durable.errors). Before a factory
//    is installed, RuntimeError("<STATUS_NAME>: message") is raised.
//  - Polls return None on DURABLE_TIMEOUT; DURABLE_SHUTDOWN raises like any
//    other status.
//  - Text arguments (instance ids, cancel reasons) are passed to durable.h
//    whole, with their length: durable refuses an id with NUL, and text
//    that is not valid UTF-8, with INVALID_ARGUMENT naming the argument. A
//    str holding lone surrogates (a non-UTF-8 file name decoded with
//    surrogateescape, say) is passed as the bytes it stands for, so it is
//    refused the same way rather than with pybind11's TypeError.
//  - close() releases a handle early; every later call raises
//    FAILED_PRECONDITION. The caller (the package) must not close a worker
//    while another thread is inside one of its calls.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "durable/durable.h"

namespace py = pybind11;

namespace {

py::object& ErrorFactory() {
  // Leaked on purpose: destroying a Python object at process exit, after the
  // interpreter finalized, would crash.
  static py::object* factory = new py::object();
  return *factory;
}

// Raises the Python exception for a non-OK status.
[[noreturn]] void RaiseMessage(durable_status_t code,
                               const std::string& message) {
  py::object& factory = ErrorFactory();
  if (!factory || factory.is_none()) {
    throw std::runtime_error(std::string(durable_status_name(code)) + ": " +
                             message);
  }
  py::object exception = factory(code, message);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())),
                  exception.ptr());
  throw py::error_already_set();
}

// The same for a status returned by durable.h; takes ownership of `error`.
[[noreturn]] void Raise(durable_status_t code, char* error) {
  std::string message = error != nullptr ? error : "";
  durable_free(error);
  RaiseMessage(code, message);
}

[[noreturn]] void RaiseClosed(const char* what) {
  RaiseMessage(DURABLE_FAILED_PRECONDITION,
               std::string("the ") + what + " is closed");
}

// Owns a library buffer returned through (uint8_t**, size_t*).
struct OutBuffer {
  uint8_t* data = nullptr;
  size_t size = 0;
  ~OutBuffer() { durable_free(data); }
  py::bytes ToBytes() const {
    return py::bytes(reinterpret_cast<const char*>(data), size);
  }
};

struct BytesView {
  explicit BytesView(const py::bytes& bytes) {
    char* buffer = nullptr;
    Py_ssize_t length = 0;
    if (PyBytes_AsStringAndSize(bytes.ptr(), &buffer, &length) != 0) {
      throw py::error_already_set();
    }
    data = reinterpret_cast<const uint8_t*>(buffer);
    size = static_cast<size_t>(length);
  }
  const uint8_t* data;
  size_t size;
};

// The bytes of a text argument: a str as UTF-8 (lone surrogates as the
// bytes they escape, or encoded as they are), bytes as they are.
std::string TextArgument(const py::handle& value, const char* what) {
  if (PyBytes_Check(value.ptr())) return value.cast<std::string>();
  if (!PyUnicode_Check(value.ptr())) {
    throw py::type_error(std::string(what) + " must be str or bytes");
  }
  for (const char* errors : {"strict", "surrogateescape", "surrogatepass"}) {
    PyObject* encoded = PyUnicode_AsEncodedString(value.ptr(), "utf-8", errors);
    if (encoded != nullptr) {
      return py::reinterpret_steal<py::bytes>(encoded).cast<std::string>();
    }
    PyErr_Clear();
  }
  throw py::value_error(std::string(what) + " cannot be encoded");
}

class Backend {
 public:
  explicit Backend(const std::string& uri) {
    char* error = nullptr;
    durable_status_t code;
    {
      py::gil_scoped_release release;
      code = durable_backend_open(uri.c_str(), &handle_, &error);
    }
    if (code != DURABLE_OK) Raise(code, error);
  }
  ~Backend() { Close(); }
  void Close() {
    durable_backend_free(handle_);
    handle_ = nullptr;
  }
  durable_backend_t* handle() const {
    if (handle_ == nullptr) RaiseClosed("backend");
    return handle_;
  }

 private:
  durable_backend_t* handle_ = nullptr;
};

class Client {
 public:
  explicit Client(const Backend& backend) {
    char* error = nullptr;
    durable_status_t code =
        durable_client_new(backend.handle(), &handle_, &error);
    if (code != DURABLE_OK) Raise(code, error);
  }
  ~Client() { Close(); }
  void Close() {
    durable_client_free(handle_);
    handle_ = nullptr;
  }

  py::bytes Create(const py::bytes& request) {
    BytesView in(request);
    return CallOut([&](OutBuffer& out, char** error) {
      return durable_client_create_workflow_instance(
          handle(), in.data, in.size, &out.data, &out.size, error);
    });
  }
  py::bytes WaitForResult(const py::object& instance, int64_t timeout_ms) {
    const std::string id = TextArgument(instance, "instance_id");
    return CallOut([&](OutBuffer& out, char** error) {
      return durable_client_wait_for_workflow_result(
          handle_, id.data(), id.size(), timeout_ms, &out.data, &out.size,
          error);
    });
  }
  py::bytes GetState(const py::object& instance) {
    const std::string id = TextArgument(instance, "instance_id");
    return CallOut([&](OutBuffer& out, char** error) {
      return durable_client_get_workflow_instance_state(
          handle_, id.data(), id.size(), &out.data, &out.size, error);
    });
  }
  py::bytes GetHistory(const py::object& instance) {
    const std::string id = TextArgument(instance, "instance_id");
    return CallOut([&](OutBuffer& out, char** error) {
      return durable_client_get_workflow_history(handle_, id.data(), id.size(),
                                                 &out.data, &out.size, error);
    });
  }
  py::bytes ListWorkers() {
    return CallOut([&](OutBuffer& out, char** error) {
      return durable_client_list_workers(handle(), &out.data, &out.size, error);
    });
  }
  void Signal(const py::bytes& request) {
    BytesView in(request);
    durable_client_t* client = handle();
    char* error = nullptr;
    durable_status_t code;
    {
      py::gil_scoped_release release;
      code = durable_client_signal_workflow(client, in.data, in.size, &error);
    }
    if (code != DURABLE_OK) Raise(code, error);
  }
  void Cancel(const py::object& instance, const py::object& why) {
    durable_client_t* client = handle();
    const std::string id = TextArgument(instance, "instance_id");
    const std::string reason = TextArgument(why, "reason");
    char* error = nullptr;
    durable_status_t code;
    {
      py::gil_scoped_release release;
      code = durable_client_cancel_workflow_instance(
          client, id.data(), id.size(), reason.data(), reason.size(), &error);
    }
    if (code != DURABLE_OK) Raise(code, error);
  }

 private:
  durable_client_t* handle() const {
    if (handle_ == nullptr) RaiseClosed("client");
    return handle_;
  }
  template <class Fn>
  py::bytes CallOut(Fn&& fn) {
    handle();  // raises if closed, with the GIL held
    OutBuffer out;
    char* error = nullptr;
    durable_status_t code;
    {
      py::gil_scoped_release release;
      code = fn(out, &error);
    }
    if (code != DURABLE_OK) Raise(code, error);
    return out.ToBytes();
  }

  durable_client_t* handle_ = nullptr;
};

class Worker {
 public:
  Worker(const Backend& backend, const py::bytes& options) {
    BytesView in(options);
    char* error = nullptr;
    durable_status_t code = durable_worker_new(backend.handle(), in.data,
                                               in.size, &handle_, &error);
    if (code != DURABLE_OK) Raise(code, error);
  }
  ~Worker() { Close(); }

  void Close() {
    durable_worker_t* worker = std::exchange(handle_, nullptr);
    if (worker == nullptr) return;
    if (PyGILState_Check()) {
      py::gil_scoped_release release;
      durable_worker_free(worker);
    } else {
      durable_worker_free(worker);
    }
  }

  py::object PollActivation(int64_t timeout_ms) {
    return Poll(timeout_ms, durable_worker_poll_workflow_activation);
  }
  py::object PollActivityTask(int64_t timeout_ms) {
    return Poll(timeout_ms, durable_worker_poll_activity_task);
  }
  void CompleteActivation(const py::bytes& completion) {
    Complete(completion, durable_worker_complete_workflow_activation);
  }
  void CompleteActivityTask(const py::bytes& result) {
    Complete(result, durable_worker_complete_activity_task);
  }
  // NOT_FOUND (raised) once the attempt timed out.
  void RecordActivityHeartbeat(const py::bytes& heartbeat) {
    Complete(heartbeat, durable_worker_record_activity_heartbeat);
  }
  void InitiateShutdown() {
    durable_worker_t* worker = handle();
    py::gil_scoped_release release;
    durable_worker_initiate_shutdown(worker);
  }
  void FinalizeShutdown(int64_t timeout_ms) {
    durable_worker_t* worker = handle();
    char* error = nullptr;
    durable_status_t code;
    {
      py::gil_scoped_release release;
      code = durable_worker_finalize_shutdown(worker, timeout_ms, &error);
    }
    if (code != DURABLE_OK) Raise(code, error);
  }

 private:
  using PollFn = durable_status_t (*)(durable_worker_t*, int64_t, uint8_t**,
                                      size_t*, char**);
  using CompleteFn = durable_status_t (*)(durable_worker_t*, const uint8_t*,
                                          size_t, char**);

  durable_worker_t* handle() const {
    if (handle_ == nullptr) RaiseClosed("worker");
    return handle_;
  }
  py::object Poll(int64_t timeout_ms, PollFn poll) {
    durable_worker_t* worker = handle();
    OutBuffer out;
    char* error = nullptr;
    durable_status_t code;
    {
      py::gil_scoped_release release;
      code = poll(worker, timeout_ms, &out.data, &out.size, &error);
    }
    if (code == DURABLE_TIMEOUT) {
      durable_free(error);
      return py::none();
    }
    if (code != DURABLE_OK) Raise(code, error);
    return out.ToBytes();
  }
  void Complete(const py::bytes& bytes, CompleteFn complete) {
    durable_worker_t* worker = handle();
    BytesView in(bytes);
    char* error = nullptr;
    durable_status_t code;
    {
      py::gil_scoped_release release;
      code = complete(worker, in.data, in.size, &error);
    }
    if (code != DURABLE_OK) Raise(code, error);
  }

  durable_worker_t* handle_ = nullptr;
};

}  // namespace

PYBIND11_MODULE(_durable_native, m) {
  m.doc() =
      "Thin wrappers over durable's C ABI (durable.h); use the durable "
      "package instead.";
  m.def("version", &durable_version, "The library version.");
  m.def("abi_version", &durable_abi_version, "The C ABI version.");
  m.def("status_name", &durable_status_name, py::arg("code"),
        "The name of a DURABLE_* status code.");
  m.def(
      "set_error_factory",
      [](py::object factory) { ErrorFactory() = std::move(factory); },
      py::arg("factory"),
      "Installs callable(code, message) -> exception used for non-OK "
      "statuses.");
  m.attr("ABI_VERSION") = DURABLE_ABI_VERSION;
  m.attr("STATUS_CODES") = [] {
    py::dict codes;
    for (int code :
         {DURABLE_OK, DURABLE_CANCELED, DURABLE_UNKNOWN,
          DURABLE_INVALID_ARGUMENT, DURABLE_TIMEOUT, DURABLE_NOT_FOUND,
          DURABLE_ALREADY_EXISTS, DURABLE_PERMISSION_DENIED,
          DURABLE_RESOURCE_EXHAUSTED, DURABLE_FAILED_PRECONDITION,
          DURABLE_ABORTED, DURABLE_OUT_OF_RANGE, DURABLE_UNIMPLEMENTED,
          DURABLE_INTERNAL, DURABLE_UNAVAILABLE, DURABLE_DATA_LOSS,
          DURABLE_NON_DETERMINISM, DURABLE_SHUTDOWN}) {
      codes[py::str(durable_status_name(code))] = code;
    }
    return codes;
  }();

  py::class_<Backend>(m, "Backend")
      .def(py::init<const std::string&>(), py::arg("uri"))
      .def("close", &Backend::Close);

  py::class_<Client>(m, "Client")
      .def(py::init<const Backend&>(), py::arg("backend"))
      .def("close", &Client::Close)
      .def("create_workflow_instance", &Client::Create, py::arg("request"))
      .def("wait_for_workflow_result", &Client::WaitForResult,
           py::arg("instance_id"), py::arg("timeout_ms"))
      .def("get_workflow_instance_state", &Client::GetState,
           py::arg("instance_id"))
      .def("get_workflow_history", &Client::GetHistory, py::arg("instance_id"))
      .def("list_workers", &Client::ListWorkers)
      .def("signal_workflow", &Client::Signal, py::arg("request"))
      .def("cancel_workflow_instance", &Client::Cancel, py::arg("instance_id"),
           py::arg("reason"));

  py::class_<Worker>(m, "Worker")
      .def(py::init<const Backend&, const py::bytes&>(), py::arg("backend"),
           py::arg("options"))
      .def("close", &Worker::Close)
      .def("poll_workflow_activation", &Worker::PollActivation,
           py::arg("timeout_ms"))
      .def("complete_workflow_activation", &Worker::CompleteActivation,
           py::arg("completion"))
      .def("poll_activity_task", &Worker::PollActivityTask,
           py::arg("timeout_ms"))
      .def("complete_activity_task", &Worker::CompleteActivityTask,
           py::arg("result"))
      .def("record_activity_heartbeat", &Worker::RecordActivityHeartbeat,
           py::arg("heartbeat"))
      .def("initiate_shutdown", &Worker::InitiateShutdown)
      .def("finalize_shutdown", &Worker::FinalizeShutdown,
           py::arg("timeout_ms"));
}
