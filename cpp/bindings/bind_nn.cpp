// _core.nn: whole-sequence forward and BPTT of RNN / LSTM / GRU stacks.

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "hetensor/nn/cell_math.hpp"
#include "hetensor/nn/recurrent.hpp"

namespace py = pybind11;

namespace hetensor::bindings {

namespace {

template <typename T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

std::string shape_of(const std::vector<std::int64_t>& dims) {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    s += std::to_string(dims[i]);
    if (i + 1 < dims.size() || dims.size() == 1) s += ",";
  }
  return s + ")";
}

template <typename T>
void check_shape(const Array<T>& a, const std::vector<std::int64_t>& want,
                 const std::string& name) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(want.size());
  for (std::size_t i = 0; ok && i < want.size(); ++i) ok = a.shape(i) == want[i];
  if (!ok) {
    throw std::invalid_argument(name + " has shape " + shape_str(a) + ", expected " +
                                shape_of(want));
  }
}

nn::math::Activation parse_activation(const std::string& fn) {
  if (fn == "exp") return nn::math::Activation::kExp;
  if (fn == "expm1") return nn::math::Activation::kExpm1;
  if (fn == "sigmoid") return nn::math::Activation::kSigmoid;
  if (fn == "tanh") return nn::math::Activation::kTanh;
  throw std::invalid_argument("unknown activation '" + fn +
                              "' (expected exp, expm1, sigmoid or tanh)");
}

nn::CellKind parse_kind(const std::string& kind) {
  if (kind == "rnn_tanh") return nn::CellKind::kRnnTanh;
  if (kind == "rnn_relu") return nn::CellKind::kRnnRelu;
  if (kind == "lstm") return nn::CellKind::kLstm;
  if (kind == "gru") return nn::CellKind::kGru;
  throw std::invalid_argument("unknown cell kind '" + kind +
                              "' (expected rnn_tanh, rnn_relu, lstm or gru)");
}

// Parameter names and shapes of one layer and direction, in PyTorch's state_dict order.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> param_specs(
    const nn::RecurrentConfig& cfg, std::int64_t layer, int dir) {
  const std::string sfx = "_l" + std::to_string(layer) + (dir == 1 ? "_reverse" : "");
  const std::int64_t gh = cfg.gates() * cfg.hidden_size, h = cfg.hidden_size;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> specs = {
      {"weight_ih" + sfx, {gh, cfg.layer_input_size(layer)}}, {"weight_hh" + sfx, {gh, h}}};
  if (cfg.bias) {
    specs.push_back({"bias_ih" + sfx, {gh}});
    specs.push_back({"bias_hh" + sfx, {gh}});
  }
  if (cfg.peephole) specs.push_back({"weight_peephole" + sfx, {cfg.peephole_rows(), h}});
  return specs;
}

// Fills a CellWeights / CellGrads from the pointers of one layer and direction, given in
// param_specs order.
template <typename Cell, typename Ptr>
Cell assemble_cell(const nn::RecurrentConfig& cfg, const std::vector<Ptr>& ptrs) {
  Cell c;
  c.w_ih = ptrs[0];
  c.w_hh = ptrs[1];
  std::size_t i = 2;
  if (cfg.bias) {
    c.b_ih = ptrs[i++];
    c.b_hh = ptrs[i++];
  }
  if (cfg.peephole) c.peephole = ptrs[i];
  return c;
}

// Converts and checks the flat parameter list; `keep` owns the converted arrays.
template <typename T>
std::vector<nn::CellWeights<T>> parse_weights(const nn::RecurrentConfig& cfg,
                                              const py::sequence& params,
                                              std::vector<Array<T>>& keep) {
  std::vector<nn::CellWeights<T>> out;
  std::size_t next = 0;
  for (std::int64_t l = 0; l < cfg.num_layers; ++l) {
    for (int dir = 0; dir < cfg.num_directions; ++dir) {
      std::vector<const T*> ptrs;
      for (const auto& [name, shape] : param_specs(cfg, l, dir)) {
        if (next >= params.size()) {
          throw std::invalid_argument("missing parameter " + name + " (got " +
                                      std::to_string(params.size()) + " arrays)");
        }
        keep.push_back(Array<T>::ensure(params[next++]));
        if (!keep.back()) throw py::error_already_set();
        check_shape(keep.back(), shape, name);
        ptrs.push_back(keep.back().data());
      }
      out.push_back(assemble_cell<nn::CellWeights<T>>(cfg, ptrs));
    }
  }
  if (next != params.size()) {
    throw std::invalid_argument("expected " + std::to_string(next) + " parameter arrays, got " +
                                std::to_string(params.size()));
  }
  return out;
}

template <typename T>
const T* optional_state(const py::object& obj, std::vector<std::int64_t> shape,
                        const std::string& name, std::vector<Array<T>>& keep) {
  if (obj.is_none()) return nullptr;
  keep.push_back(Array<T>::ensure(obj));
  if (!keep.back()) throw py::error_already_set();
  check_shape(keep.back(), shape, name);
  return keep.back().data();
}

template <typename T>
void register_typed(py::module_& n, const char* tape_name) {
  n.def(
      "activation",
      [](const std::string& fn, const Array<T>& x) {
        const nn::math::Activation kind = parse_activation(fn);
        std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
        Array<T> y(shape);
        {
          py::gil_scoped_release release;
          nn::math::activation(kind, static_cast<std::int64_t>(x.size()), x.data(),
                               y.mutable_data());
        }
        return y;
      },
      py::arg("fn"), py::arg("x"), R"doc(
The recurrent cells' element-wise ``exp``, ``expm1``, ``sigmoid`` or ``tanh`` of ``x``.

The same branch-free code the LSTM / GRU / RNN kernels run, in the AVX-512 / AVX2 / baseline
clone this machine selects; float32 or float64 in, same dtype and shape out. Arguments beyond
the float range saturate (``sigmoid`` to 0 or 1, ``tanh`` to -1 or 1, ``exp`` at e^88 resp.
e^709, never inf).
)doc");

  using Tape = nn::RecurrentTape<T>;
  py::class_<Tape>(n, tape_name, R"doc(
Saved activations of one recurrent forward pass, consumed by ``recurrent_backward``.
)doc")
      .def_property_readonly("seq_len", [](const Tape& t) { return t.seq_len; })
      .def_property_readonly("batch", [](const Tape& t) { return t.batch; })
      .def_property_readonly("consumed", [](const Tape& t) { return t.consumed; });

  n.def(
      "recurrent_forward",
      [](const std::string& kind, const Array<T>& x, const py::object& h0, const py::object& c0,
         const py::sequence& params, std::int64_t input_size, std::int64_t hidden_size,
         std::int64_t num_layers, bool bidirectional, bool bias, bool peephole, bool coupled) {
        nn::RecurrentConfig cfg;
        cfg.kind = parse_kind(kind);
        cfg.input_size = input_size;
        cfg.hidden_size = hidden_size;
        cfg.num_layers = num_layers;
        cfg.num_directions = bidirectional ? 2 : 1;
        cfg.bias = bias;
        cfg.peephole = peephole;
        cfg.coupled = coupled;
        cfg.validate();
        if (x.ndim() != 3 || x.shape(2) != input_size || x.shape(0) < 1 || x.shape(1) < 1) {
          throw std::invalid_argument("input has shape " + shape_str(x) +
                                      ", expected (seq_len, batch, " + std::to_string(input_size) +
                                      ") with seq_len, batch >= 1");
        }
        const std::int64_t steps = x.shape(0), batch = x.shape(1);
        const std::int64_t states = num_layers * cfg.num_directions;
        std::vector<Array<T>> keep;
        const auto weights = parse_weights<T>(cfg, params, keep);
        const T* ph0 = optional_state<T>(h0, {states, batch, hidden_size}, "h0", keep);
        const T* pc0 = cfg.has_cell()
                           ? optional_state<T>(c0, {states, batch, hidden_size}, "c0", keep)
                           : nullptr;
        Array<T> output({steps, batch, cfg.num_directions * hidden_size});
        Array<T> h_n({states, batch, hidden_size});
        py::object c_n = py::none();
        T* pc_n = nullptr;
        if (cfg.has_cell()) {
          Array<T> c({states, batch, hidden_size});
          pc_n = c.mutable_data();
          c_n = c;
        }
        auto tape = std::make_unique<Tape>();
        {
          py::gil_scoped_release release;
          nn::recurrent_forward<T>(cfg, steps, batch, x.data(), ph0, pc0, weights,
                                   output.mutable_data(), h_n.mutable_data(), pc_n, *tape);
        }
        return py::make_tuple(output, h_n, c_n, py::cast(std::move(tape)));
      },
      py::arg("kind"), py::arg("x"), py::arg("h0"), py::arg("c0"), py::arg("params"),
      py::arg("input_size"), py::arg("hidden_size"), py::arg("num_layers"),
      py::arg("bidirectional"), py::arg("bias"), py::arg("peephole") = false,
      py::arg("coupled") = false, R"doc(
Forward pass of a recurrent stack over a whole time-major sequence ``x`` (T, B, I).

``kind``: ``rnn_tanh``, ``rnn_relu``, ``lstm`` or ``gru``. ``params``: the arrays of each
layer and direction in PyTorch ``state_dict`` order (``weight_ih``, ``weight_hh``, then
``bias_ih``, ``bias_hh`` with ``bias``, then ``weight_peephole`` (3 or 2, H) with
``peephole``). ``h0``/``c0``: (L*D, B, H) or None for zeros. Returns
``(output (T, B, D*H), h_n, c_n or None, tape)``; the tape feeds ``recurrent_backward``.
)doc");

  n.def(
      "recurrent_backward",
      [](Tape& tape, const Array<T>& x, const py::sequence& params, const Array<T>& d_output,
         const py::object& d_h_n, const py::object& d_c_n) {
        const nn::RecurrentConfig& cfg = tape.cfg;
        const std::int64_t steps = tape.seq_len, batch = tape.batch, H = cfg.hidden_size;
        const std::int64_t states = cfg.num_layers * cfg.num_directions;
        check_shape(x, {steps, batch, cfg.input_size}, "input");
        check_shape(d_output, {steps, batch, cfg.num_directions * H}, "grad_output");
        std::vector<Array<T>> keep;
        const auto weights = parse_weights<T>(cfg, params, keep);
        const T* pdh = optional_state<T>(d_h_n, {states, batch, H}, "grad_h_n", keep);
        const T* pdc = cfg.has_cell()
                           ? optional_state<T>(d_c_n, {states, batch, H}, "grad_c_n", keep)
                           : nullptr;
        Array<T> d_x({steps, batch, cfg.input_size});
        Array<T> d_h0({states, batch, H});
        py::object d_c0 = py::none();
        T* pdc0 = nullptr;
        if (cfg.has_cell()) {
          Array<T> c({states, batch, H});
          pdc0 = c.mutable_data();
          d_c0 = c;
        }
        py::list grad_list;
        std::vector<nn::CellGrads<T>> grads;
        for (std::int64_t l = 0; l < cfg.num_layers; ++l) {
          for (int dir = 0; dir < cfg.num_directions; ++dir) {
            std::vector<T*> ptrs;
            for (const auto& spec : param_specs(cfg, l, dir)) {
              Array<T> g(spec.second);
              ptrs.push_back(g.mutable_data());
              grad_list.append(g);
            }
            grads.push_back(assemble_cell<nn::CellGrads<T>>(cfg, ptrs));
          }
        }
        {
          py::gil_scoped_release release;
          nn::recurrent_backward<T>(tape, x.data(), weights, d_output.data(), pdh, pdc,
                                    d_x.mutable_data(), d_h0.mutable_data(), pdc0, grads);
        }
        return py::make_tuple(d_x, d_h0, d_c0, grad_list);
      },
      py::arg("tape"), py::arg("x"), py::arg("params"), py::arg("grad_output"), py::arg("grad_h_n"),
      py::arg("grad_c_n"), R"doc(
Backpropagation through time for the forward pass that made ``tape`` (once per tape).

``grad_output`` (T, B, D*H); ``grad_h_n``/``grad_c_n`` (L*D, B, H) or None for zeros.
Returns ``(grad_x, grad_h0, grad_c0 or None, [grad of each parameter in params order])``.
Raises ``RuntimeError`` when the tape was already used.
)doc");
}

}  // namespace

void register_nn(py::module_& m) {
  py::module_ n = m.def_submodule("nn", "Recurrent-layer kernels: forward and BPTT.");
  register_typed<float>(n, "RecurrentTapeF32");
  register_typed<double>(n, "RecurrentTapeF64");
}

}  // namespace hetensor::bindings
