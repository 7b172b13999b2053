// splunk_app._ctdetect: shim functions only. Converts types, releases the GIL around the work,
// and turns load errors into ValueError. Everything else lives in the core or in Python.
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
// When Python lets go of it, its buffer goes back to a small pool and the next chunk's reply is
// written into it: a fresh buffer of a few hundred MB per chunk costs a page fault and a page
// clear for every 4 KB, about a tenth of the command's time. Pool and bodies are only touched
// with the GIL held.
struct ReplyPool {
  static constexpr size_t kKept = 2;  // a reply being written out and the next one
  // A buffer much larger than the reply it last held (one huge event made it so) is freed
  // rather than kept for the rest of the search.
  static constexpr size_t kAlwaysKept = 64u << 20;
  std::vector<std::string> free;
};

ReplyPool &reply_pool() {
  static ReplyPool *pool = new ReplyPool();  // never destroyed: bodies may outlive the module's teardown
  return *pool;
}

struct ReplyBody {
  std::string bytes;
  ReplyBody() = default;
  ReplyBody(const ReplyBody &) = delete;
  ReplyBody &operator=(const ReplyBody &) = delete;
  ~ReplyBody() {
    ReplyPool &pool = reply_pool();
    bool oversized = bytes.capacity() > ReplyPool::kAlwaysKept && bytes.capacity() / 4 > bytes.size();
    if (pool.free.size() < ReplyPool::kKept && !oversized) {
      bytes.clear();
      pool.free.push_back(std::move(bytes));
    }
  }
};

// `body` is any contiguous bytes-like object (bytes, bytearray, memoryview): the shim reads each
// chunk into one reused buffer. Nothing refers to it once this returns.
py::memoryview process_body(ctdetect::Engine &engine, const py::buffer &body, const std::string &field, bool extract,
                            bool only_detections) {
  py::buffer_info info = body.request();
  if (info.ndim != 1 || info.itemsize != 1 || (info.size > 1 && info.strides[0] != 1)) {
    throw py::type_error("process_body: body must be a contiguous bytes-like object");
  }
  std::string_view input(static_cast<const char *>(info.ptr), static_cast<size_t>(info.size));
  ctdetect::ChunkOptions options{field, extract, only_detections};
  auto reply = std::make_unique<ReplyBody>();
  ReplyPool &pool = reply_pool();
  if (!pool.free.empty()) {
    reply->bytes = std::move(pool.free.back());
    pool.free.pop_back();
  }
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
      .def("process_body", &process_body, py::arg("body"), py::arg("field") = "_raw", py::arg("extract") = true,
           py::arg("only_detections") = false);
  m.def("split_records", &split_records, py::arg("data"),
        "Byte ranges and eventTime/eventName/readOnly of each record of a CloudTrail log file.");
}
