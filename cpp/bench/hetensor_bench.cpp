// hetensor_bench: times the native kernels without Python and writes JSON.
//
//   hetensor_bench [--json FILE] [--repeat N] [--quick]
//
// Rows: SGEMM and DGEMM 2048^3 through the same OpenBLAS (the practical peak of this
// machine), block power iteration (dense n=2000 k=8; sparse n=200,000 k=8, the benchmark
// problems) and LSTM / GRU / RNN forward and forward+backward at (seq, batch, input, hidden)
// = (100, 32, 64, 128) and (50, 64, 256, 512), float32. Each row reports the median seconds,
// GFLOP/s and the fraction of the same-precision GEMM rate measured in the same run.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hetensor/common/blas.hpp"
#include "hetensor/common/parallel.hpp"
#include "hetensor/linalg/power_iteration.hpp"
#include "hetensor/nn/recurrent.hpp"

namespace {

using hetensor::blas::gemm;
using std::int64_t;

struct Row {
  std::string name;
  double seconds = 0.0;
  double flops = 0.0;     // per run
  std::string precision;  // "float32" | "float64": which GEMM peak it is compared with
  std::string extras;     // JSON object body
};

double median_seconds(const std::function<void()>& fn, int repeat) {
  fn();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < std::max(1, repeat); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

template <typename T>
std::vector<T> gaussian(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(0.0, scale);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

template <typename T>
Row bench_gemm(int64_t n, int repeat, const char* precision) {
  auto a = gaussian<T>(static_cast<std::size_t>(n * n), 1), b = gaussian<T>(a.size(), 2);
  std::vector<T> c(a.size());
  const double s = median_seconds(
      [&] { gemm(false, false, n, n, n, T(1), a.data(), n, b.data(), n, T(0), c.data(), n); },
      repeat);
  return {std::string(precision[5] == '3' ? "sgemm" : "dgemm") + " " + std::to_string(n) + "^3", s,
          2.0 * double(n) * double(n) * double(n), precision, "\"n\": " + std::to_string(n)};
}

// Median time of power_iteration(k = 8) from the start block v0 (n x p) on `mm`.
double time_power(int64_t n, int64_t p, const hetensor::linalg::MatMat<double>& mm,
                  const std::vector<double>& v0, int repeat,
                  hetensor::linalg::PowerIterationResult& r) {
  const int64_t k = 8;
  std::vector<double> vals(k), vecs(static_cast<std::size_t>(n * k)), res(k);
  return median_seconds(
      [&] {
        std::vector<double> v(v0);
        r = hetensor::linalg::power_iteration<double>(n, k, p, mm, v.data(), 1e-10, 1000,
                                                      vals.data(), vecs.data(), res.data());
      },
      repeat);
}

Row bench_power_dense(int64_t n, int repeat) {
  const int64_t p = 16;
  auto q = gaussian<double>(static_cast<std::size_t>(n * n), 3);
  hetensor::blas::householder_q(n, n, q.data(), n);
  std::vector<double> qd(q.size()), a(q.size());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) qd[i * n + j] = q[i * n + j] * std::pow(0.85, double(j));
  }
  gemm(false, true, n, n, n, 1.0, qd.data(), n, q.data(), n, 0.0, a.data(), n);
  const auto v0 = gaussian<double>(static_cast<std::size_t>(n * p), 4);
  hetensor::linalg::PowerIterationResult r;
  hetensor::linalg::MatMat<double> mm = [&](const double* v, double* w) {
    hetensor::linalg::dense_matmat<double>(a.data(), n, v, p, w);  // as power_iteration(A)
  };
  const double s = time_power(n, p, mm, v0, repeat, r);
  const double flops =
      double(r.iterations) * (2.0 * double(n) * double(n) * double(p) + 14.0 * double(n * p * p));
  return {"power_iteration dense n=" + std::to_string(n) + " k=8", s, flops, "float64",
          "\"n\": " + std::to_string(n) +
              ", \"k\": 8, \"block\": 16, \"iterations\": " + std::to_string(r.iterations) +
              ", \"converged\": " + (r.converged ? "true" : "false")};
}

Row bench_power_sparse(int64_t n, int repeat) {
  const int64_t k = 8;
  // S + S^T with S random (density 1e-4, Gaussian values) + 60 * 0.85^i at 8 diagonal spots.
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int64_t> idx(0, n - 1);
  std::normal_distribution<double> val(0.0, 1.0);
  const auto m = static_cast<int64_t>(1e-4 * double(n) * double(n));
  std::vector<std::vector<std::pair<int32_t, double>>> rows(static_cast<std::size_t>(n));
  for (int64_t e = 0; e < m; ++e) {
    const int64_t i = idx(rng), j = idx(rng);
    const double v = val(rng);
    rows[i].push_back({static_cast<int32_t>(j), v});
    rows[j].push_back({static_cast<int32_t>(i), v});
  }
  for (int64_t s = 0; s < k; ++s) {
    const int64_t i = idx(rng);
    rows[i].push_back({static_cast<int32_t>(i), 60.0 * std::pow(0.85, double(s))});
  }
  std::vector<int32_t> indptr(1, 0), indices;
  std::vector<double> data;
  for (auto& r : rows) {
    std::sort(r.begin(), r.end(), [](auto& x, auto& y) { return x.first < y.first; });
    for (std::size_t e = 0; e < r.size(); ++e) {
      if (e > 0 && r[e].first == r[e - 1].first) {
        data.back() += r[e].second;
      } else {
        indices.push_back(r[e].first);
        data.push_back(r[e].second);
      }
    }
    indptr.push_back(static_cast<int32_t>(indices.size()));
  }
  rows.clear();
  const hetensor::linalg::CsrView<double, int32_t> a{n, n, indptr.data(), indices.data(),
                                                     data.data()};
  // method="auto" runs thick-restart Lanczos on sparse input: basis min(n, max(2k + 1, 20)).
  const int64_t basis = std::max<int64_t>(2 * k + 1, 20);
  const auto v0 = gaussian<double>(static_cast<std::size_t>(n), 6);
  const hetensor::linalg::BlockOp<double> op = [&](const double* v, int64_t p, double* w) {
    hetensor::linalg::csr_matmat<double, int32_t>(a, v, p, w);
  };
  std::vector<double> vals(k), vecs(static_cast<std::size_t>(n * k)), res(k);
  hetensor::linalg::LanczosResult r;
  const double s = median_seconds(
      [&] {
        r = hetensor::linalg::lanczos<double>(n, k, basis, op, v0.data(), 1e-10, 100000, 0,
                                              vals.data(), vecs.data(), res.data());
      },
      repeat);
  const double nnz = double(data.size());
  // operator products plus classical Gram-Schmidt twice against the basis (<= m vectors)
  const double flops = double(r.matvecs) * 2.0 * nnz + double(r.steps) * 8.0 * double(n * basis);
  return {"power_iteration sparse n=" + std::to_string(n) + " k=8 (lanczos)", s, flops, "float64",
          "\"n\": " + std::to_string(n) + ", \"nnz\": " + std::to_string(data.size()) +
              ", \"k\": 8, \"basis\": " + std::to_string(basis) + ", \"steps\": " +
              std::to_string(r.steps) + ", \"matvecs\": " + std::to_string(r.matvecs) +
              ", \"converged\": " + (r.converged ? "true" : "false")};
}

std::vector<Row> bench_recurrent(hetensor::nn::CellKind kind, const char* name, int64_t steps,
                                 int64_t batch, int64_t in, int64_t hidden, int repeat) {
  using hetensor::nn::CellGrads;
  using hetensor::nn::CellWeights;
  hetensor::nn::RecurrentConfig cfg;
  cfg.kind = kind;
  cfg.input_size = in;
  cfg.hidden_size = hidden;
  const int64_t gh = cfg.gates() * hidden;
  const double bound = 1.0 / std::sqrt(double(hidden));
  auto w_ih = gaussian<float>(static_cast<std::size_t>(gh * in), 7, bound);
  auto w_hh = gaussian<float>(static_cast<std::size_t>(gh * hidden), 8, bound);
  auto b_ih = gaussian<float>(static_cast<std::size_t>(gh), 9, bound);
  auto b_hh = gaussian<float>(static_cast<std::size_t>(gh), 10, bound);
  auto x = gaussian<float>(static_cast<std::size_t>(steps * batch * in), 11);
  const std::vector<CellWeights<float>> weights{
      {w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data(), nullptr}};
  const std::size_t bh = static_cast<std::size_t>(batch * hidden);
  std::vector<float> out(static_cast<std::size_t>(steps) * bh), h_n(bh), c_n(bh),
      d_out(out.size(), 1.0f);
  std::vector<float> d_x(x.size()), d_h0(bh), d_c0(bh), g_ih(w_ih.size()), g_hh(w_hh.size()),
      g_bi(b_ih.size()), g_bh(b_hh.size());
  const std::vector<CellGrads<float>> grads{
      {g_ih.data(), g_hh.data(), g_bi.data(), g_bh.data(), nullptr}};
  hetensor::nn::RecurrentTape<float> tape;
  auto forward = [&] {
    hetensor::nn::recurrent_forward<float>(cfg, steps, batch, x.data(), nullptr, nullptr, weights,
                                           out.data(), h_n.data(), c_n.data(), tape);
  };
  const double t_f = median_seconds(forward, repeat);
  const double t_fb = median_seconds(
      [&] {
        forward();
        hetensor::nn::recurrent_backward<float>(tape, x.data(), weights, d_out.data(), nullptr,
                                                nullptr, d_x.data(), d_h0.data(), d_c0.data(),
                                                grads);
      },
      repeat);
  const double f_flops = 2.0 * double(steps * batch) * double(in + hidden) * double(gh);
  std::ostringstream ex;
  ex << "\"seq\": " << steps << ", \"batch\": " << batch << ", \"input\": " << in
     << ", \"hidden\": " << hidden;
  std::ostringstream shape;
  shape << " (" << steps << "," << batch << "," << in << "," << hidden << ") float32";
  return {{std::string(name) + " forward" + shape.str(), t_f, f_flops, "float32", ex.str()},
          {std::string(name) + " forward+backward" + shape.str(), t_fb, 3.0 * f_flops, "float32",
           ex.str()}};
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::string json_path;
  int repeat = 5;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--quick") {
      quick = true;
    } else {
      std::cerr << "usage: hetensor_bench [--json FILE] [--repeat N] [--quick]\n";
      return 2;
    }
  }
  const int64_t gemm_n = quick ? 512 : 2048;
  std::vector<Row> rows;
  rows.push_back(bench_gemm<float>(gemm_n, repeat, "float32"));
  rows.push_back(bench_gemm<double>(gemm_n, repeat, "float64"));
  rows.push_back(bench_power_dense(quick ? 500 : 2000, repeat));
  rows.push_back(bench_power_sparse(quick ? 20000 : 200000, std::max(1, repeat / 3)));
  using hetensor::nn::CellKind;
  const std::vector<std::vector<int64_t>> shapes =
      quick ? std::vector<std::vector<int64_t>>{{20, 8, 16, 32}}
            : std::vector<std::vector<int64_t>>{{100, 32, 64, 128}, {50, 64, 256, 512}};
  for (const auto& s : shapes) {
    for (auto [kind, name] : {std::pair{CellKind::kLstm, "lstm"}, std::pair{CellKind::kGru, "gru"},
                              std::pair{CellKind::kRnnTanh, "rnn"}}) {
      for (auto& r : bench_recurrent(kind, name, s[0], s[1], s[2], s[3], repeat)) rows.push_back(r);
    }
  }
  const double peak32 = rows[0].flops / rows[0].seconds, peak64 = rows[1].flops / rows[1].seconds;
  std::ostringstream js;
  js << "{\n  \"meta\": {\"blas\": \"" << json_escape(hetensor::blas::config())
     << "\", \"blas_threads\": " << hetensor::blas::num_threads()
     << ", \"kernel_threads\": " << hetensor::default_num_threads()
     << ", \"sgemm_gflops\": " << peak32 / 1e9 << ", \"dgemm_gflops\": " << peak64 / 1e9
     << "},\n  \"rows\": [\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const double rate = r.flops / r.seconds;
    const double peak = r.precision == "float32" ? peak32 : peak64;
    js << "    {\"name\": \"" << json_escape(r.name) << "\", \"seconds\": " << r.seconds
       << ", \"gflops\": " << rate / 1e9 << ", \"fraction_of_gemm_peak\": " << rate / peak
       << ", \"precision\": \"" << r.precision << "\", \"extras\": {" << r.extras << "}}"
       << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  js << "  ]\n}\n";
  if (json_path.empty()) {
    std::cout << js.str();
  } else {
    std::ofstream(json_path) << js.str();
  }
  for (const Row& r : rows) {
    const double rate = r.flops / r.seconds;
    std::fprintf(stderr, "%-55s %10.3f ms %8.1f GFLOP/s %6.1f%% of %s GEMM\n", r.name.c_str(),
                 r.seconds * 1e3, rate / 1e9,
                 100.0 * rate / (r.precision == "float32" ? peak32 : peak64),
                 r.precision == "float32" ? "S" : "D");
  }
  return 0;
}
