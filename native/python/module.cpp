// splunk_app._ctdetect: shim functions only. Converts types, releases the GIL around the work,
// and turns load errors into ValueError. Everything else lives in the core or in Python.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "ctdetect/engine.h"
#include "ctdetect/record_splitter.h"

namespace py = pybind11;

namespace {

std::unique_ptr<ctdetect::Engine> create_engine(const std::vector<std::string> &conf_paths, const std::string &lookup_dir,
                                                const std::string &rules) {
  auto engine = ctdetect::Engine::create(conf_paths, lookup_dir, rules);
  if (!engine) { throw py::value_error(engine.detail()); }
  return std::move(engine).value();
}

// analyze(raw: str or bytes). bytes are taken as they are. A str is encoded to UTF-8 with
// "surrogatepass": a lone surrogate (json.loads makes them from "\\ud800") then becomes bytes
// that are not UTF-8, and the record gets the same "invalid JSON" error as those bytes would,
// where a strict conversion would fail the call with a TypeError.
py::dict analyze(ctdetect::Engine &engine, const py::object &raw) {
  std::string text;
  if (PyBytes_Check(raw.ptr())) {
    text = raw.cast<std::string>();
  } else if (PyUnicode_Check(raw.ptr())) {
    PyObject *encoded = PyUnicode_AsEncodedString(raw.ptr(), "utf-8", "surrogatepass");
    if (encoded == nullptr) { throw py::error_already_set(); }
    text = py::reinterpret_steal<py::bytes>(encoded).cast<std::string>();
  } else {
    throw py::type_error(std::string("analyze() takes str or bytes, not ") + Py_TYPE(raw.ptr())->tp_name);
  }
  ctdetect::Analysis analysis;
  {
    py::gil_scoped_release release;
    analysis = engine.analyze(text);
  }
  py::list fields;
  for (auto &field : analysis.fields) {
    py::list pair;
    pair.append(py::str(field.first));
    pair.append(py::cast(field.second));
    fields.append(pair);
  }
  py::dict out;
  out["fields"] = fields;
  out["detections"] = analysis.detections;
  out["error"] = analysis.error.empty() ? py::object(py::none()) : py::object(py::str(analysis.error));
  return out;
}

// A reply body the module hands to Python without copying it: a read-only memoryview whose
// exporter owns the bytes (a reply is several times its chunk; a copy would double the peak).
// The command itself streams its replies (prepare_reply/write_reply below); this path serves
// callers without a file descriptor.
struct ReplyBody {
  std::string bytes;
};

std::string_view contiguous_bytes(const py::buffer &body, py::buffer_info &info, const char *function) {
  info = body.request();
  if (info.ndim != 1 || info.itemsize != 1 || (info.size > 1 && info.strides[0] != 1)) {
    throw py::type_error(std::string(function) + ": body must be a contiguous bytes-like object");
  }
  return std::string_view(static_cast<const char *>(info.ptr), static_cast<size_t>(info.size));
}

// `body` is any contiguous bytes-like object (bytes, bytearray, memoryview). Nothing refers to
// it once this returns.
py::memoryview process_body(ctdetect::Engine &engine, const py::buffer &body, const std::string &field, bool extract,
                            bool only_detections) {
  py::buffer_info info;
  std::string_view input = contiguous_bytes(body, info, "process_body");
  ctdetect::ChunkOptions options{field, extract, only_detections};
  auto reply = std::make_unique<ReplyBody>();
  std::string detail;
  ctdetect::error_code error;
  {
    py::gil_scoped_release release;
    error = engine.process_body(input, options, reply->bytes, detail);
  }
  if (error != ctdetect::error_code::SUCCESS) {
    throw py::value_error(std::string(ctdetect::error_message(error)) + ": " + detail);
  }
  py::object owner = py::cast(reply.release(), py::return_value_policy::take_ownership);
  return py::memoryview(owner);
}

// The streamed reply: prepare_reply(body, ...) -> its exact size in bytes, then, once the
// caller has written the protocol header announcing that size, write_reply(fd, body) writes the
// reply to the file descriptor in pieces. The reply never exists whole in memory (it is often
// 2-3 x the chunk), and nothing is copied into a Python object. `body` must be the same object,
// unchanged, in both calls: the prepared rows point into it.
struct PreparedBody {
  const ctdetect::Engine *engine = nullptr;
  const void *data = nullptr;
  size_t size = 0;
};
PreparedBody &prepared_body() {
  static PreparedBody *prepared = new PreparedBody();
  return *prepared;
}


size_t prepare_reply(ctdetect::Engine &engine, const py::buffer &body, const std::string &field, bool extract,
                     bool only_detections) {
  py::buffer_info info;
  std::string_view input = contiguous_bytes(body, info, "prepare_reply");
  ctdetect::ChunkOptions options{field, extract, only_detections};
  size_t size = 0;
  std::string detail;
  ctdetect::error_code error;
  prepared_body() = PreparedBody{};
  {
    py::gil_scoped_release release;
    error = engine.prepare_reply(input, options, size, detail);
  }
  if (error != ctdetect::error_code::SUCCESS) {
    throw py::value_error(std::string(ctdetect::error_message(error)) + ": " + detail);
  }
  prepared_body() = PreparedBody{&engine, input.data(), input.size()};
  return size;
}

// Writes to a file descriptor, whole pieces, through EINTR and (for a non-blocking one) EAGAIN.
class FdSink : public ctdetect::ReplySink {
public:
  explicit FdSink(int fd) : fd_(fd) {}
  bool write(const char *data, size_t size) override {
    while (size > 0) {
      ssize_t written = ::write(fd_, data, size);
      if (written < 0) {
        if (errno == EINTR) { continue; }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          pollfd ready{fd_, POLLOUT, 0};
          ::poll(&ready, 1, -1);
          continue;
        }
        errno_ = errno;
        return false;
      }
      data += written;
      size -= static_cast<size_t>(written);
    }
    return true;
  }
  std::string detail() const override { return std::strerror(errno_); }
  int error_number() const { return errno_; }

private:
  int fd_;
  int errno_ = 0;
};

void write_reply(ctdetect::Engine &engine, int fd, const py::buffer &body) {
  py::buffer_info info;
  std::string_view input = contiguous_bytes(body, info, "write_reply");
  PreparedBody &prepared = prepared_body();
  if (prepared.engine != &engine || prepared.data != input.data() || prepared.size != input.size()) {
    throw py::value_error("write_reply: call prepare_reply with this body first");
  }
  prepared = PreparedBody{};
  FdSink sink(fd);
  std::string detail;
  ctdetect::error_code error;
  {
    py::gil_scoped_release release;
    error = engine.write_reply(sink, detail);
  }
  if (error != ctdetect::error_code::SUCCESS) {
    if (sink.error_number() != 0) {
      errno = sink.error_number();
      PyErr_SetFromErrno(PyExc_OSError);  // BrokenPipeError when splunkd went away
      throw py::error_already_set();
    }
    throw py::value_error(std::string(ctdetect::error_message(error)) + ": " + detail);
  }
}

// split_records(data: bytes) -> (error, detail, records): error is None or the core's message
// ("invalid JSON", "not a CloudTrail log file"); records is a list of
// (offset, length, eventTime or None, eventName or None, readOnly True/False/None).
py::tuple split_records(const py::bytes &data) {
  char *bytes = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(data.ptr(), &bytes, &size) != 0) { throw py::error_already_set(); }
  // One splitter per thread keeps its buffers between files; a very large file gets its own, so
  // that its buffers are freed when it is done.
  thread_local ctdetect::RecordSplitter shared_splitter;
  std::unique_ptr<ctdetect::RecordSplitter> own_splitter;
  ctdetect::RecordSplitter *splitter = &shared_splitter;
  if (size > (16 << 20)) {
    own_splitter = std::make_unique<ctdetect::RecordSplitter>();
    splitter = own_splitter.get();
  }
  std::vector<ctdetect::RecordSpan> spans;
  ctdetect::error_code error;
  {
    py::gil_scoped_release release;
    error = splitter->split(std::string_view(bytes, static_cast<size_t>(size)), spans);
  }
  if (error != ctdetect::error_code::SUCCESS) {
    return py::make_tuple(py::str(ctdetect::error_message(error)), py::str(splitter->detail()), py::list());
  }
  py::list records(spans.size());
  size_t index = 0;
  for (const auto &span : spans) {
    py::object event_time = span.has_event_time ? py::object(py::str(span.event_time.data(), span.event_time.size()))
                                                : py::object(py::none());
    py::object event_name = span.has_event_name ? py::object(py::str(span.event_name.data(), span.event_name.size()))
                                                : py::object(py::none());
    py::object read_only = span.read_only < 0 ? py::object(py::none()) : py::object(py::bool_(span.read_only == 1));
    records[index++] = py::make_tuple(span.offset, span.length, event_time, event_name, read_only);
  }
  return py::make_tuple(py::none(), py::str(""), records);
}

}  // namespace

PYBIND11_MODULE(_ctdetect, m) {
  m.doc() = "CloudTrail Detect native engine (simdjson).";
  py::class_<ReplyBody>(m, "ReplyBody", py::buffer_protocol())
      .def_buffer([](ReplyBody &reply) -> py::buffer_info {
        return py::buffer_info(reply.bytes.data(), 1, py::format_descriptor<unsigned char>::format(), 1,
                               {static_cast<py::ssize_t>(reply.bytes.size())}, {static_cast<py::ssize_t>(1)}, true);
      });
  py::class_<ctdetect::Engine>(m, "Engine")
      .def(py::init(&create_engine), py::arg("conf_paths"), py::arg("lookup_dir"), py::arg("rules") = "*")
      .def_property_readonly("detection_ids", &ctdetect::Engine::detection_ids)
      .def_property_readonly("warnings", &ctdetect::Engine::warnings)
      .def("analyze", &analyze, py::arg("raw"))
      .def("prepare_reply", &prepare_reply, py::arg("body"), py::arg("field") = "_raw", py::arg("extract") = true,
           py::arg("only_detections") = false)
      .def("write_reply", &write_reply, py::arg("fd"), py::arg("body"))
      .def("process_body", &process_body, py::arg("body"), py::arg("field") = "_raw", py::arg("extract") = true,
           py::arg("only_detections") = false);
  m.def("split_records", &split_records, py::arg("data"),
        "Byte ranges and eventTime/eventName/readOnly of each record of a CloudTrail log file.");
}
