#pragma once
// The loss of docs/contract.md (nn4n's RNNLoss): MSE plus optional weight and firing-rate
// regularizers.
#include <array>

namespace ctrnn {

enum LossTerm : int { kMse = 0, kLossIn, kLossHid, kLossOut, kLossFr, kLossFrSd, kLossFrCv, kNumLossTerms };
inline const char* const kLossTermNames[kNumLossTerms] = {"mse", "in", "hid", "out", "fr", "fr_sd", "fr_cv"};

// The lambda of each term, indexed by LossTerm. nn4n's defaults: lambda_mse = 1, others 0.
struct LossWeights {
  std::array<double, kNumLossTerms> lambda{1, 0, 0, 0, 0, 0, 0};
  double& operator[](LossTerm t) { return lambda[t]; }
  double operator[](LossTerm t) const { return lambda[t]; }
};

// Shape of an optional MSE mask: none, (T, B) broadcast over outputs, or (T, B, O).
enum class LossMask { None, TimeBatch, TimeBatchOutput };

}  // namespace ctrnn
