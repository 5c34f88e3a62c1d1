#pragma once
// Whole-sequence forward and backpropagation through time (BPTT) for multi-layer,
// optionally bidirectional Elman RNN, LSTM (optional peepholes, optional coupled input-forget
// gate) and GRU stacks, with PyTorch's weight layout and gate order:
//   RNN   h = act(W_ih x + b_ih + W_hh h' + b_hh)                      act = tanh | relu
//   LSTM  [i f g o] = W_ih x + b_ih + W_hh h' + b_hh   (+ p_i c', p_f c' on i, f; p_o c on o)
//         c = f c' + i g,  h = o tanh(c)       coupled: gates [f g o], i = 1 - f
//   GRU   [r z] = sigmoid(W_i. x + b_i. + W_h. h' + b_h.),
//         n = tanh(W_in x + b_in + r (W_hn h' + b_hn)),  h = (1 - z) n + z h'
// Per layer and direction the input projection of all time steps is one GEMM, each step one
// GEMM for the recurrent part plus one fused element-wise pass; backward mirrors this and
// gets the weight gradients from one GEMM each over all steps.
//
// Layout: sequences are time-major, x (T, B, I); outputs (T, B, D*H) with the reverse
// direction in the second half; states (L*D, B, H) indexed layer * D + direction.

#include <cstdint>
#include <vector>

namespace hetensor::nn {

enum class CellKind { kRnnTanh, kRnnRelu, kLstm, kGru };

struct RecurrentConfig {
  CellKind kind = CellKind::kLstm;
  std::int64_t input_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_layers = 1;
  std::int64_t num_directions = 1;
  bool bias = true;
  bool peephole = false;  // LSTM only
  bool coupled = false;   // LSTM only: input gate = 1 - forget gate

  // Gate blocks of H rows in W_ih / W_hh: 1 (RNN), 4 (LSTM), 3 (coupled LSTM, GRU).
  std::int64_t gates() const;
  // Rows of the peephole parameter: 3 (i, f, o) or 2 (f, o) when coupled; 0 without.
  std::int64_t peephole_rows() const;
  bool has_cell() const { return kind == CellKind::kLstm; }
  std::int64_t layer_input_size(std::int64_t layer) const {
    return layer == 0 ? input_size : num_directions * hidden_size;
  }
  void validate() const;  // throws std::invalid_argument
};

// Parameters of one layer and direction (b_ih, b_hh null without bias, peephole null
// without peepholes). Shapes: w_ih (G*H, I_l), w_hh (G*H, H), b_* (G*H), peephole (P, H).
template <typename T>
struct CellWeights {
  const T* w_ih = nullptr;
  const T* w_hh = nullptr;
  const T* b_ih = nullptr;
  const T* b_hh = nullptr;
  const T* peephole = nullptr;
};

// Gradients of one layer and direction, same shapes (pointers may be null where the
// parameter does not exist). Overwritten, not accumulated.
template <typename T>
struct CellGrads {
  T* w_ih = nullptr;
  T* w_hh = nullptr;
  T* b_ih = nullptr;
  T* b_hh = nullptr;
  T* peephole = nullptr;
};

// What the backward pass needs from a forward pass; produced by recurrent_forward and
// consumed (overwritten) by recurrent_backward, which therefore runs once per forward.
template <typename T>
struct RecurrentTape {
  RecurrentConfig cfg;
  std::int64_t seq_len = 0;
  std::int64_t batch = 0;
  std::vector<std::vector<T>> outputs;  // per layer: (T, B, D*H)
  std::vector<std::vector<T>> gates;    // per layer*D+dir: (T, B, G*H) activated gates
  std::vector<std::vector<T>> aux;      // LSTM: cell states c_t; GRU: W_hn h' + b_hn; (T,B,H)
  std::vector<T> h0, c0;                // (L*D, B, H) initial states
  bool consumed = false;
};

// Runs the stack over the sequence. h0/c0 may be null (zeros). Writes output (T, B, D*H),
// h_n and (LSTM) c_n (L*D, B, H); fills `tape` for backward.
template <typename T>
void recurrent_forward(const RecurrentConfig& cfg, std::int64_t seq_len, std::int64_t batch,
                       const T* x, const T* h0, const T* c0,
                       const std::vector<CellWeights<T>>& weights, T* output, T* h_n, T* c_n,
                       RecurrentTape<T>& tape);

// BPTT. x is the forward's input; d_output (T, B, D*H), d_h_n / d_c_n (L*D, B, H) may be null
// (zero). Writes d_x (T, B, I), d_h0 and (LSTM) d_c0 (L*D, B, H) and every weight gradient.
// Throws std::logic_error when the tape was already consumed.
template <typename T>
void recurrent_backward(RecurrentTape<T>& tape, const T* x,
                        const std::vector<CellWeights<T>>& weights, const T* d_output,
                        const T* d_h_n, const T* d_c_n, T* d_x, T* d_h0, T* d_c0,
                        const std::vector<CellGrads<T>>& grads);

}  // namespace hetensor::nn
