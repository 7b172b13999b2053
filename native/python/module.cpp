// splunk_app._ctdetect: shim functions only. Converts types, releases the GIL around the work,
// and turns load errors into ValueError. Everything else lives in the core or in Python.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "ctdetect/engine.h"

namespace py = pybind11;

namespace {

std::unique_ptr<ctdetect::Engine> create_engine(const std::vector<std::string> &conf_paths, const std::string &lookup_dir,
                                                const std::string &rules) {
  auto engine = ctdetect::Engine::create(conf_paths, lookup_dir, rules);
  if (!engine) { throw py::value_error(engine.detail()); }
  return std::move(engine).value();
}

py::dict analyze(ctdetect::Engine &engine, const std::string &raw) {
  ctdetect::Analysis analysis;
  {
    py::gil_scoped_release release;
    analysis = engine.analyze(raw);
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

py::bytes process_body(ctdetect::Engine &engine, const py::bytes &body, const std::string &field, bool extract,
                       bool only_detections) {
  char *data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(body.ptr(), &data, &size) != 0) { throw py::error_already_set(); }
  ctdetect::ChunkOptions options{field, extract, only_detections};
  std::string out, detail;
  ctdetect::error_code error;
  {
    py::gil_scoped_release release;
    error = engine.process_body(std::string_view(data, static_cast<size_t>(size)), options, out, detail);
  }
  if (error != ctdetect::error_code::SUCCESS) {
    throw py::value_error(std::string(ctdetect::error_message(error)) + ": " + detail);
  }
  return py::bytes(out);
}

}  // namespace

PYBIND11_MODULE(_ctdetect, m) {
  m.doc() = "CloudTrail Detect native engine (simdjson).";
  py::class_<ctdetect::Engine>(m, "Engine")
      .def(py::init(&create_engine), py::arg("conf_paths"), py::arg("lookup_dir"), py::arg("rules") = "*")
      .def_property_readonly("detection_ids", &ctdetect::Engine::detection_ids)
      .def_property_readonly("warnings", &ctdetect::Engine::warnings)
      .def("analyze", &analyze, py::arg("raw"))
      .def("process_body", &process_body, py::arg("body"), py::arg("field") = "_raw", py::arg("extract") = true,
           py::arg("only_detections") = false);
}
