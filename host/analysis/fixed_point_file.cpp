// save_fixed_points / load_fixed_points: a FixedPointResult as safetensors. Tensors of network e
// are named "<e>.<field>" (the FixedPoints field names); the metadata says what the file is.
#include <string>

#include "ctrnn/analysis.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"

namespace ctrnn {

namespace {

constexpr const char* kFormat = "ctrnn.fixed_points";

std::string key(size_t e, const char* field) { return std::to_string(e) + "." + field; }

template <class T>
Tensor<T> vector_tensor(const std::vector<T>& v) {
  return Tensor<T>({int64_t(v.size())}, v);
}

int64_t metadata_count(const SafetensorsFile& f, const std::string& name) {
  const auto it = f.metadata.find(name);
  if (it == f.metadata.end()) throw FileError("ctrnn: " + f.source + ": not a fixed-point file (no '" + name + "')");
  try {
    size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    if (used == it->second.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  throw FileError("ctrnn: " + f.source + ": metadata '" + name + "' is not a count: '" + it->second + "'");
}

}  // namespace

void save_fixed_points(const std::string& path, const FixedPointResult& r) {
  SafetensorsFile f;
  f.metadata["format"] = kFormat;
  f.metadata["networks"] = std::to_string(r.networks.size());
  f.metadata["candidates"] = std::to_string(r.candidates);
  for (size_t e = 0; e < r.networks.size(); ++e) {
    const FixedPoints& p = r.networks[e];
    f.put(key(e, "x_star"), p.x_star);
    f.put(key(e, "x_init"), p.x_init);
    f.put(key(e, "inputs"), p.inputs);
    f.put(key(e, "F_x_star"), p.F_x_star);
    f.put(key(e, "q_star"), vector_tensor(p.q_star));
    f.put(key(e, "dq"), vector_tensor(p.dq));
    f.put(key(e, "iterations"), vector_tensor(p.iterations));
    f.put(key(e, "jacobians"), p.jacobians);
    if (p.eigenvalues_re.numel() > 0 || !p.stable.empty()) {
      f.put(key(e, "eigenvalues_re"), p.eigenvalues_re);
      f.put(key(e, "eigenvalues_im"), p.eigenvalues_im);
      f.put(key(e, "eigenvectors_re"), p.eigenvectors_re);
      f.put(key(e, "eigenvectors_im"), p.eigenvectors_im);
      f.put(key(e, "stable"), vector_tensor(p.stable));
    }
  }
  f.write(path);
}

FixedPointResult load_fixed_points(const std::string& path) {
  const SafetensorsFile f = SafetensorsFile::read(path);
  const auto format = f.metadata.find("format");
  if (format == f.metadata.end() || format->second != kFormat)
    throw FileError("ctrnn: " + path + ": not a fixed-point file (metadata format is not '" + kFormat + "')");
  FixedPointResult r;
  const int64_t E = metadata_count(f, "networks");
  r.candidates = metadata_count(f, "candidates");
  auto bad = [&](const std::string& what) { return FileError("ctrnn: " + path + ": " + what); };
  for (int64_t e = 0; e < E; ++e) {
    FixedPoints p;
    p.x_star = f.get<double>(key(size_t(e), "x_star"));
    p.inputs = f.get<double>(key(size_t(e), "inputs"));
    if (p.x_star.rank() != 2 || p.inputs.rank() != 2 || p.inputs.shape[0] != p.x_star.shape[0])
      throw bad("network " + std::to_string(e) + ": x_star and inputs must be (K, H) and (K, I)");
    const int64_t K = p.x_star.shape[0];
    p.H = p.x_star.shape[1], p.I = p.inputs.shape[1];
    auto expect = [&](const Shape& got, const Shape& want, const char* field) {
      if (got != want)
        throw bad(key(size_t(e), field) + " has shape " + shape_to_string(got) + ", expected " + shape_to_string(want));
    };
    p.x_init = f.get<double>(key(size_t(e), "x_init"));
    expect(p.x_init.shape, {K, p.H}, "x_init");
    p.F_x_star = f.get<double>(key(size_t(e), "F_x_star"));
    expect(p.F_x_star.shape, {K, p.H}, "F_x_star");
    const Tensor<double> q = f.get<double>(key(size_t(e), "q_star")), dq = f.get<double>(key(size_t(e), "dq"));
    const Tensor<int64_t> it = f.get<int64_t>(key(size_t(e), "iterations"));
    expect(q.shape, {K}, "q_star");
    expect(dq.shape, {K}, "dq");
    expect(it.shape, {K}, "iterations");
    p.q_star = q.data, p.dq = dq.data, p.iterations = it.data;
    p.jacobians = f.get<double>(key(size_t(e), "jacobians"));
    expect(p.jacobians.shape, {K, p.H, p.H}, "jacobians");
    if (f.contains(key(size_t(e), "stable"))) {
      p.eigenvalues_re = f.get<double>(key(size_t(e), "eigenvalues_re"));
      p.eigenvalues_im = f.get<double>(key(size_t(e), "eigenvalues_im"));
      p.eigenvectors_re = f.get<double>(key(size_t(e), "eigenvectors_re"));
      p.eigenvectors_im = f.get<double>(key(size_t(e), "eigenvectors_im"));
      expect(p.eigenvalues_re.shape, {K, p.H}, "eigenvalues_re");
      expect(p.eigenvalues_im.shape, {K, p.H}, "eigenvalues_im");
      expect(p.eigenvectors_re.shape, {K, p.H, p.H}, "eigenvectors_re");
      expect(p.eigenvectors_im.shape, {K, p.H, p.H}, "eigenvectors_im");
      const Tensor<int64_t> st = f.get<int64_t>(key(size_t(e), "stable"));  // stored as U8
      expect(st.shape, {K}, "stable");
      for (int64_t s : st.data) {
        if (s != 0 && s != 1) throw bad(key(size_t(e), "stable") + " holds " + std::to_string(s) + ", expected 0 or 1");
        p.stable.push_back(uint8_t(s));
      }
    }
    r.networks.push_back(std::move(p));
  }
  return r;
}

}  // namespace ctrnn
