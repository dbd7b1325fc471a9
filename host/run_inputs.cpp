#include "ctrnn/run_inputs.hpp"

#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"
#include "tensor_checks.hpp"

namespace ctrnn {

Tensor<float> read_run_inputs(const std::string& path, const Config& c) {
  const SafetensorsFile f = SafetensorsFile::read(path);
  if (!f.contains("u")) throw InvalidArgument("inputs", "a tensor named 'u' in '" + path + "'", "none");
  const Shape& s = f.shape("u");
  const bool shared = s.size() == 3 && s[2] == c.input_dim();
  const bool per_network = s.size() == 4 && s[0] == c.ensemble_size && s[3] == c.input_dim();
  if (!shared && !per_network)
    throw InvalidArgument("inputs", "tensor 'u' of shape (T, B, " + std::to_string(c.input_dim()) + ") or (" +
                                        std::to_string(c.ensemble_size) + ", T, B, " + std::to_string(c.input_dim()) + ")",
                          shape_to_string(s) + " in '" + path + "'");
  const size_t t_axis = shared ? 0 : 1;
  if (s[t_axis] < 1 || s[t_axis + 1] < 1)
    throw InvalidArgument("inputs", "at least one time step and one batch row", shape_to_string(s) + " in '" + path + "'");
  Tensor<float> u = f.get<float>("u");
  detail::check_finite(u, "inputs");
  return u;
}

}  // namespace ctrnn
