#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
// counter-based generator. A number is a pure function of (key, counter), so every random draw
// of the library is addressed by what it is for, not by how many draws came before it: the same
// seed gives the same network and noise whatever the order, thread count or launch geometry.
#include <cmath>
#include <cstdint>

#include "kernels/host_device.hpp"

namespace ctrnn {

struct PhiloxBlock {
  uint32_t x[4];
};

// The multipliers of a round and the key schedule (the round key of round r + 1 from round r's).
constexpr uint32_t kPhiloxMul0 = 0xD2511F53u, kPhiloxMul1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxKeyStep0 = 0x9E3779B9u, kPhiloxKeyStep1 = 0xBB67AE85u;

// One round of Philox4x32 on the counter (c0, c1, c2, c3) under the round key (k0, k1).
CTRNN_HD inline void philox_round(uint32_t& c0, uint32_t& c1, uint32_t& c2, uint32_t& c3, uint32_t k0, uint32_t k1) {
  const uint64_t p0 = uint64_t(kPhiloxMul0) * c0;
  const uint64_t p1 = uint64_t(kPhiloxMul1) * c2;
  c0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
  c1 = uint32_t(p1);
  c2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
  c3 = uint32_t(p0);
}
CTRNN_HD inline PhiloxBlock philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                          uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    philox_round(c0, c1, c2, c3, k0, k1);
    k0 += kPhiloxKeyStep0;
    k1 += kPhiloxKeyStep1;
  }
  return {{c0, c1, c2, c3}};
}

// What a draw is for; the top byte of the last counter word.
enum class RandomPurpose : uint32_t { Weight = 1, Bias = 2, PreactNoise = 3, PostactNoise = 4, Growth = 5, TaskData = 6,
                                     AnalysisSamples = 7 };

// A stream of numbers for one (seed, purpose, network, sub-stream) address. Element i of the
// stream is lane i % 4 of block i / 4, so element i never depends on any other element.
struct RandomStream {
  uint32_t k0, k1;  // the seed
  uint32_t sub;     // e.g. the layer, or the step index of a noise draw
  uint32_t tag;     // purpose << 24 | network (up to 2^24 networks)
  uint32_t call;    // e.g. the forward-call counter

  CTRNN_HD RandomStream(uint64_t seed, RandomPurpose purpose, uint32_t network, uint32_t sub_stream,
                        uint32_t call_index = 0)
      : k0(uint32_t(seed)), k1(uint32_t(seed >> 32)), sub(sub_stream),
        tag((uint32_t(purpose) << 24) | (network & 0xFFFFFFu)), call(call_index) {}

  CTRNN_HD PhiloxBlock block(uint32_t b) const { return philox4x32_10(b, sub, call, tag, k0, k1); }

  // Uniform in [0, 1) with 24 random bits (exact in float).
  CTRNN_HD static float to_uniform(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }
  // Uniform in (0, 1]: safe for log().
  CTRNN_HD static float to_open_uniform(uint32_t x) { return float((x >> 8) + 1) * (1.0f / 16777216.0f); }

  CTRNN_HD float uniform(uint32_t i) const { return to_uniform(lane(block(i / 4), i % 4)); }

  // x[lane] by selects: a computed index (blk.x[i % 4]) would put the block in local memory (a
  // stack frame and a store and load per draw) in the CUDA kernels.
  CTRNN_HD static uint32_t lane(const PhiloxBlock& blk, uint32_t k) {
    return k == 0 ? blk.x[0] : k == 1 ? blk.x[1] : k == 2 ? blk.x[2] : blk.x[3];
  }

  // Standard normal by Box-Muller: lanes (0, 1) of a block give elements 4b, 4b+1, lanes (2, 3)
  // give 4b+2, 4b+3. Tails are cut at sqrt(-2 ln 2^-24) = 5.8 sigma.
  CTRNN_HD float normal(uint32_t i) const {
    const PhiloxBlock blk = block(i / 4);
    const bool high_pair = (i & 2u) != 0;  // lanes by selects, as in lane()
    return box_muller(high_pair ? blk.x[2] : blk.x[0], high_pair ? blk.x[3] : blk.x[1], i % 2);
  }
  // On the GPU the angle's sine and cosine come from sincospif(2 u): cosf/sinf of 2 pi u would
  // compile in their large-argument reduction, whose scratch array lives in local memory (a
  // stack frame in every noise kernel). Both sides agree to a few 1e-7 (the host rounds 2 pi u
  // to float first).
  // The batched host form of these draws (host/normal_fill.hpp) gives the same bits.
  CTRNN_HD static float box_muller(uint32_t a, uint32_t b, uint32_t which) {
    const float radius = sqrtf(-2.0f * logf(to_open_uniform(a)));
#ifdef __CUDA_ARCH__
    float s, c;
    sincospif(2.0f * to_uniform(b), &s, &c);
    return which == 0 ? radius * c : radius * s;
#else
    const float angle = host_angle(b);
    return which == 0 ? radius * cosf(angle) : radius * sinf(angle);
#endif
  }
  // The host's Box-Muller angle 2 pi u, rounded to float.
  CTRNN_HD static float host_angle(uint32_t b) { return 6.283185307179586f * to_uniform(b); }
};

}  // namespace ctrnn
