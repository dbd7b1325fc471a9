#pragma once
// The loss of docs/contract.md (nn4n's RNNLoss): MSE plus optional weight and firing-rate
// regularizers.
#include <array>
#include <string>

#include "ctrnn/per_network.hpp"

namespace ctrnn {

enum LossTerm : int { kMse = 0, kLossIn, kLossHid, kLossOut, kLossFr, kLossFrSd, kLossFrCv, kNumLossTerms };
inline const char* const kLossTermNames[kNumLossTerms] = {"mse", "in", "hid", "out", "fr", "fr_sd", "fr_cv"};

// The lambda of each term, indexed by LossTerm, one for all networks or one per network.
// nn4n's defaults: lambda_mse = 1, others 0.
struct LossWeights {
  std::array<PerNetwork, kNumLossTerms> lambda{1, 0, 0, 0, 0, 0, 0};
  PerNetwork& operator[](LossTerm t) { return lambda[t]; }
  const PerNetwork& operator[](LossTerm t) const { return lambda[t]; }
  // Whether some network's lambda of term t is not 0 (the term is computed at all).
  bool used(LossTerm t) const { return lambda[t].any_nonzero(); }

  // Throws InvalidArgument naming lambda_<term>, prefixed by `prefix` (e.g. "loss."), and the
  // network, unless every lambda is finite and >= 0; with E > 0 also a per-network lambda without
  // E entries.
  void validate(const std::string& prefix = "", int64_t E = 0) const;
};

// Shape of an optional MSE mask: none, (T, B) broadcast over outputs, or (T, B, O).
enum class LossMask { None, TimeBatch, TimeBatchOutput };

}  // namespace ctrnn
